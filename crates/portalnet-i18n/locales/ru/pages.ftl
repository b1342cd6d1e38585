# Страницы портала: страница приглашения и страница задачи для участников по e-mail.

## Страница приглашения
page-invitation = Приглашение
page-invited = Вас приглашают на портал { $portal } как внешнего пользователя (экстранет), с адресом { $email }.
page-invited-group = Вас приглашают в группу { $group } на портале { $portal } как внешнего пользователя (экстранет), с адресом { $email }.
page-valid-until = Приглашение действует до { $expires }.
page-your-name = Ваше имя
page-login-optional = Логин (необязательно)
page-accept = Принять приглашение
page-accepted = Приглашение принято
page-welcome = Добро пожаловать, { $name }! Теперь вы внешний пользователь портала { $portal } с логином { $login }.
page-token-once = Ваш API-токен (показывается один раз; храните его в секрете):
page-use-token = Используйте его с portalctl:

## Страница задачи
page-task = Задача
page-task-meta = { $portal } · задача { $id }
page-status = Статус:
page-deadline = срок { $deadline }
page-people = Участники
page-creator = Автор: { $name }
page-responsible = Ответственный: { $name }
page-co-executor = Соисполнитель: { $name }
page-observer = Наблюдатель: { $name }
page-files = Файлы
page-file-size = { $size ->
        [one] { $size } байт
        [few] { $size } байта
        [many] { $size } байт
       *[other] { $size } байта
    }
page-comments = Комментарии
page-add-comment = Добавить комментарий
page-comment-as = Вы комментируете как { $email }.
page-post-comment = Отправить комментарий
page-more-comments = Следующие комментарии →
page-first-comments = ← Первые комментарии
