# Письма, которые отправляет портал. Переменные: $portal (название портала), $title
# (название задачи), $by / $author (имя человека), $count (число: действуют формы множественного числа).

## Дата и время: $year, $month (1–12), $day, $mm и $dd (с нулём), $time (ЧЧ:ММ, UTC).
datetime = { $day } { $month ->
        [1] января
        [2] февраля
        [3] марта
        [4] апреля
        [5] мая
        [6] июня
        [7] июля
        [8] августа
        [9] сентября
        [10] октября
        [11] ноября
       *[12] декабря
    } { $year } г., { $time } UTC

## Приглашение внешнего пользователя (R4)
invite-subject = Приглашение на портал { $portal }
invite-subject-group = Приглашение в группу { $group } на портале { $portal }
invite-hello = Здравствуйте!
invite-body = Пользователь { $inviter } приглашает вас на портал { $portal } как внешнего пользователя.
invite-body-group = Пользователь { $inviter } приглашает вас в группу «{ $group }» на портале { $portal }.
invite-open-link = Чтобы принять приглашение, откройте ссылку:
invite-accept = Принять приглашение
invite-or-cli = Или выполните команду в утилите командной строки portalctl:
invite-your-name = Ваше имя
invite-valid-until = Приглашение действует до { $expires }.
invite-ignore = Если вы не ждали этого письма, просто не обращайте на него внимания.

## Уведомления о задачах для участников по e-mail (R21–R23)
notice-added = Пользователь { $by } добавил вас в задачу «{ $title }» в роли { $role ->
        [responsible] ответственного
        [co-executor] соисполнителя
       *[observer] наблюдателя
    }.
notice-status-line = Статус: { $status }
notice-deadline-line = Срок: { $deadline }
notice-files = { $count ->
        [one] В задаче { $count } файл.
        [few] В задаче { $count } файла.
        [many] В задаче { $count } файлов.
       *[other] В задаче { $count } файла.
    }
notice-comment = Пользователь { $author } оставил комментарий:
notice-status-changed = Пользователь { $by } изменил статус с «{ $from }» на «{ $to }».
notice-deadline-changed = Пользователь { $by } изменил срок с { $from } на { $to }.
notice-no-deadline = не задан
notice-task-link = Задача: { $url }
notice-open-task = Открыть задачу
notice-reply-hint = Ответьте на это письмо, чтобы прокомментировать задачу; пишите над цитируемым текстом.

## Статусы задач
status-new = новая
status-in-progress = в работе
status-awaiting-control = ждёт проверки
status-completed = завершена
status-deferred = отложена
