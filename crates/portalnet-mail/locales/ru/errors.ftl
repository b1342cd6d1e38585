# Отказы, которые портал отправляет portalctl и другим клиентам API, на языке, который
# запросил клиент (метаданные gRPC `x-portal-language` или `accept-language`).
error-token-missing = нет API-токена: передайте `authorization: Bearer <token>` (portalctl: --token или PORTALCTL_TOKEN)
error-token-unknown = этот портал не знает такого API-токена: попросите токен у администратора (`portalctl token issue LOGIN`)
error-user-dismissed = пользователь `{ $login }` уволен; его токены больше не действуют
error-storage = внутренняя ошибка хранилища; оператор портала найдёт подробности в журнале узла
error-internal = внутренняя ошибка; оператор портала найдёт подробности в журнале узла
