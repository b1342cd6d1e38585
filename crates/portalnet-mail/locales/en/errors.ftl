# Refusals the portal sends to portalctl and other API clients, in the language the
# client asks for (gRPC metadata `x-portal-language` or `accept-language`).
error-token-missing = missing API token: send `authorization: Bearer <token>` (portalctl: --token or PORTALCTL_TOKEN)
error-token-unknown = API token not recognised on this portal: ask an administrator for one (`portalctl token issue LOGIN`)
error-user-dismissed = user `{ $login }` is dismissed; their tokens no longer work
error-storage = internal storage error; the portal operator can find it in the node's log
error-internal = internal error; the portal operator can find it in the node's log
