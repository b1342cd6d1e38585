//! Checks at the client and mail boundary found by review (stop 24).
