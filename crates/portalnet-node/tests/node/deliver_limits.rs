//! Limits of the Replication service's calls found by review (stop 24).
