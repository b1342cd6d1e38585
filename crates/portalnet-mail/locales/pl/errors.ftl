# Odmowy, które portal wysyła do portalctl i innych klientów API, w języku, o który prosi
# klient (metadane gRPC `x-portal-language` lub `accept-language`).
error-token-missing = brak tokenu API: wyślij `authorization: Bearer <token>` (portalctl: --token lub PORTALCTL_TOKEN)
error-token-unknown = ten portal nie zna tego tokenu API: poproś administratora o token (`portalctl token issue LOGIN`)
error-user-dismissed = użytkownik `{ $login }` został zwolniony; jego tokeny już nie działają
error-storage = wewnętrzny błąd magazynu danych; operator portalu znajdzie szczegóły w dzienniku węzła
error-internal = błąd wewnętrzny; operator portalu znajdzie szczegóły w dzienniku węzła
