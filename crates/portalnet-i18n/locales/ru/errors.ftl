# Отказы, которые портал отправляет portalctl и другим клиентам API, на языке, который
# запросил клиент (метаданные gRPC `x-portal-language` или `accept-language`).
error-token-missing = нет API-токена: передайте `authorization: Bearer <token>` (portalctl: --token или PORTALCTL_TOKEN)
error-token-unknown = этот портал не знает такого API-токена: попросите токен у администратора (`portalctl token issue LOGIN`)
error-user-dismissed = пользователь `{ $login }` уволен; его токены больше не действуют
error-storage = внутренняя ошибка хранилища; оператор портала найдёт подробности в журнале узла
error-internal = внутренняя ошибка; оператор портала найдёт подробности в журнале узла

## Правила портала (core). `{ $field }` — название поля, переводится сообщениями `field-*` ниже.
error-bad-address = { $field }: `{ $value }` — неверный адрес: используйте login@portal, например `jan@beta.test` (людей можно найти командой `portalctl network search`), или `mailto:{ $value }` для участника по e-mail
error-login-required = поле «{ $field }» обязательно (логин, например `anna`)
error-bad-login = { $field }: `{ $value }` — неверный логин: используйте от 2 до { $max } символов a-z, 0-9, `.`, `_`, `-`, начиная с буквы
error-bad-portal-id = идентификатор портала `{ $value }` неверен: используйте имя в стиле DNS, например `alpha.test` (части из a-z, 0-9, `-`)
error-required = поле «{ $field }» обязательно
error-too-many-chars = в поле «{ $field }» { $n } { $n ->
        [one] символ
        [few] символа
       *[many] символов
    }; предел — { $max }
error-not-single-line = поле «{ $field }» должно быть одной строкой без управляющих символов
error-too-many-bytes = в поле «{ $field }» { $n } { $n ->
        [one] байт
        [few] байта
       *[many] байтов
    }; предел — { $max } { $max ->
        [one] байт
        [few] байта
       *[many] байтов
    }
error-control-chars = поле «{ $field }» содержит управляющие символы
error-bad-email = { $field }: `{ $value }` — не адрес e-mail: ожидается `name@example.com`
error-email-required = поле «{ $field }» обязательно (адрес e-mail)
error-group-not-extranet = группа { $group } ({ $name }) недоступна в экстранете, поэтому приглашать в неё внешних пользователей нельзя; владелец может включить это: `portalctl group update { $group } --extranet`
error-invite-not-member = вы не состоите в группе { $group }, поэтому не можете приглашать в неё
error-invite-owner-only = в группе { $group } приглашать может только владелец ({ $owner })
error-group-owner-only = изменять группу { $group } может только её владелец
error-empty-update = изменение не называет ни одного поля: укажите хотя бы одно
error-add-member-denied = добавлять участников в группу { $group } может только владелец или модератор
error-one-owner = у группы один владелец; добавьте человека модератором или участником
error-owner-role-fixed = { $login } — владелец группы { $group }; роль владельца изменить нельзя
error-invitation-used = это приглашение уже использовано; войдите с токеном, полученным тогда, или попросите новое приглашение
error-invitation-expired = срок этого приглашения истёк; попросите пригласившего отправить его снова
error-invitation-withdrawn = портал отозвал это приглашение
error-invitation-accepted = приглашение { $id } принято; отправлять повторно нечего
error-invitation-revoked = приглашение { $id } отозвано; пригласите человека заново
error-invitation-not-pending = приглашение { $id } в состоянии { $state }; отозвать можно только ожидающее
error-seats-full = тариф портала допускает { $seats } { $seats ->
        [one] бизнес-пользователя
       *[other] бизнес-пользователей
    } (сотрудники и пользователи экстранета вместе), активных — { $used }; увольте кого-нибудь или поднимите предел (`portalctl portal plan set --seats N`)
error-task-not-found = задача { $task } не найдена
error-task-already = задача { $task } уже в статусе { $status }
error-edit-denied = редактировать задачу { $task } может только её постановщик
error-comment-denied = комментировать задачу { $task } могут только её участники
error-attach-denied = прикреплять файлы к задаче { $task } могут только постановщик, ответственный или соисполнители
error-status-path = ответственный не может перевести задачу { $task } из статуса { $from } в { $to }; обратитесь к постановщику (он принимает и возобновляет задачи)
error-status-denied = менять статус задачи { $task } может только ответственный или постановщик
error-too-many-participants = у задачи может быть не более { $max } { $max ->
        [one] участника
       *[other] участников
    }; у этой { $n }
error-edit-too-many-participants = у задачи может быть не более { $max } { $max ->
        [one] участника
       *[other] участников
    }; после этого изменения было бы { $n }
error-comment-required = текст комментария обязателен
error-too-many-files = у задачи { $task } уже { $n } { $n ->
        [one] файл
        [few] файла
       *[many] файлов
    } — больше задаче нельзя
error-file-name-required = имя файла обязательно
error-file-name-path = имя файла `{ $name }` не должно содержать путь: укажите только имя
error-content-type = тип содержимого должен быть типом MIME, например `text/plain`
error-file-too-big = файл `{ $name }` занимает { $size } { $size ->
        [one] байт
        [few] байта
       *[many] байтов
    }; предел — { $max } { $max ->
        [one] байт
        [few] байта
       *[many] байтов
    }
error-title-required = название обязательно
error-deadline-range = срок должен быть моментом между 1970 и 9999 годом

## Названия полей в отказах.
field-login = логин
field-display-name = отображаемое имя
field-email = e-mail
field-e-mail = e-mail
field-position = должность
field-title = название
field-description = описание
field-comment = комментарий
field-group-name = название группы
field-group-description = описание группы
field-file-name = имя файла
field-invited-e-mail = e-mail приглашённого
field-new-e-mail = новый e-mail
field-login-to-remove = удаляемый логин
field-responsible = ответственный
field-accomplices = соисполнители
field-observers = наблюдатели
field-participant = участник
field-address = адрес
field-name = имя

## Правила узла портала.
error-user-exists = пользователь `{ $login }` уже существует
error-extranet-no-browse = пользователи экстранета не просматривают сотрудников портала; участников своих групп можно увидеть командой `portalctl group show ID`
error-user-not-found = пользователь `{ $login }` на этом портале не найден
error-dismiss-self = нельзя уволить самого себя; обратитесь к другому администратору
error-already-dismissed = пользователь `{ $login }` уже уволен
error-user-empty-update = изменение не называет ни одного поля: укажите имя, должность или язык
error-already-employee = `{ $login }` уже сотрудник (пользователь интранета)
error-is-dismissed = `{ $login }` уволен
error-already-extranet = `{ $login }` уже пользователь экстранета
error-no-move-to-extranet = пользователя интранета нельзя перевести в экстранет. Вместо этого увольте `{ $login }` (`portalctl user dismiss { $login }`) и пригласите человека заново как внешнего пользователя на другой адрес e-mail — или сначала дайте уволенной учётной записи другой адрес (`portalctl user set-email { $login } НОВЫЙ-АДРЕС`), чтобы использовать этот
error-email-used-by = адрес { $email } уже использует `{ $login }`
error-email-used = адрес { $email } уже использует другой пользователь этого портала; выберите другой адрес или обратитесь к администратору
error-edit-elsewhere = дом задачи { $task } — портал { $portal }: редактировать её может только постановщик, там
error-file-not-found = файл { $file } в задаче { $task } не найден
error-extranet-no-email-people = пользователи экстранета не могут добавлять людей по адресу e-mail
error-extranet-no-remote = пользователи экстранета не могут привлекать людей других порталов (R13)
error-extranet-pick-members = пользователи экстранета могут выбирать только участников своих групп; `{ $login }` к ним не относится
error-dismissed-no-tasks = пользователь `{ $login }` уволен и не может участвовать в задачах
error-extranet-needs-group = `{ $login }` — пользователь экстранета: участвует только в задачах своих групп; поместите задачу в одну из них (--group)
error-extranet-not-shared = `{ $login }` — пользователь экстранета и не может участвовать в задаче, общей с другими порталами (R13)
error-not-group-member = вы не состоите в группе { $group }; ставить в ней задачи могут только её участники
error-login-taken = логин `{ $login }` на этом портале занят; выберите другой или оставьте пустым
error-group-left-extranet = группа { $group } больше не доступна в экстранете; обратитесь к пригласившему
error-email-of-user = { $email } уже принадлежит пользователю этого портала, поэтому пригласить его нельзя; чтобы освободить адрес, человек меняет e-mail своей учётной записи в Сети или администратор меняет e-mail учётной записи (`portalctl user set-email LOGIN НОВЫЙ-АДРЕС`)
error-email-of-dismissed = { $email } уже принадлежит (уволенному) пользователю этого портала, поэтому пригласить его нельзя; чтобы освободить адрес, человек меняет e-mail своей учётной записи в Сети или администратор меняет e-mail учётной записи (`portalctl user set-email LOGIN НОВЫЙ-АДРЕС`)
error-email-invited = у { $email } уже есть ожидающее приглашение ({ $id }); отправьте его повторно или отзовите (`portalctl invite resend { $id }`)
error-invitation-not-found = приглашение { $id } не найдено
error-invitation-link-unknown = приглашение не найдено: ссылка могла быть набрана с ошибкой, уже использована или заменена более новым приглашением
error-group-not-found = группа { $group } не найдена
error-extranet-no-groups = пользователи экстранета не могут создавать группы
error-too-many-invitations = один вызов может пригласить не больше { $max } человек, а в этом их { $n }: создайте группу не больше чем с { $max } приглашениями, остальных пригласите из группы (`portalctl group invite ID --email АДРЕС`)
error-extranet-add-own = пользователи экстранета могут добавлять только тех, с кем состоят в одной группе; других пусть добавит сотрудник
error-dismissed-no-groups = пользователь `{ $login }` уволен и не может вступать в группы
error-extranet-user-group = `{ $login }` — пользователь экстранета, а группа { $group } недоступна в экстранете (R2); владелец может включить это: `portalctl group update { $group } --extranet`
error-no-portal = в этой папке данных нет портала: сначала выполните `portald init`
error-admins-only = только администраторы портала могут { $what }
error-employees-only = { $what } — для сотрудников портала; пользователи экстранета видят только свои группы и задачи
error-link-unknown = эта ссылка на задачу здесь неизвестна: проверьте, что она скопирована из письма целиком
error-link-revoked = эта ссылка на задачу отозвана; попросите постановщика добавить вас снова
error-link-left = вы больше не участвуете в этой задаче, поэтому её ссылка больше не работает
error-no-live-link = у задачи { $task } нет действующей ссылки для { $participant }
error-not-participant = вы не участвуете в задаче { $task } (дом: { $portal }): менять её могут только участники
error-network-off = сетевое взаимодействие на портале { $portal } выключено: администратор включает его командой `portalctl network enable` (R13)
error-network-not-yet = сетевое взаимодействие на портале { $portal } включено { $since }; задачи с людьми других порталов возможны с { $from } (R15)
error-portal-exists = в этой папке данных уже есть портал
error-dismissed-no-token = пользователь `{ $login }` уволен; токен не работал бы
error-id-required = поле «{ $field }» обязательно (число от 1)
error-status-required = статус обязателен: один из new, in_progress, awaiting_control, completed, deferred
error-bad-role = роль должна быть member или moderator
error-bad-invite-policy = правило приглашений должно быть owner, moderators или members
error-bad-report-by = `by` отчёта должно быть responsible, status или group
error-bad-deadline = срок должен быть положительным временем в миллисекундах от эпохи (0 — без срока)
error-group-and-clear = укажите group_id или clear_group, но не оба
error-no-network-accounts = сетевое взаимодействие на этом портале выключено, поэтому у него нет учётных записей в Сети для изменения

## О чём правила администраторов и сотрудников (`{ $what }` выше).
what-add-users = добавлять пользователей
what-change-e-mail-addresses = менять адреса e-mail
what-change-the-plan = менять тариф
what-change-users = изменять пользователей
what-dismiss-users = увольнять пользователей
what-issue-api-tokens = выдавать токены API
what-move-users-to-the-intranet = переводить пользователей в интранет
what-the-plan-and-its-seats = тариф и его места
what-the-portal-s-network-settings = сетевые настройки портала

## Поля запросов узла.
field-task-id = id задачи
field-group-id = id группы
field-invitation-id = id приглашения
field-file-id = id файла
error-bad-language = портал не знает языка `{ $value }`: используйте en, pl или ru (пусто — язык портала)

## Что следует знать пригласившему (R6).
notice-portal-only = в группе { $group } ({ $name }) участников добавляют только владелец и модераторы: { $email } войдёт в портал как пользователь экстранета, но не в группу; попросите владельца или модератора добавить его

## Отказы обработчиков API узла.
error-no-directory = этот портал не подключён к каталогу Сети: задайте [directory] в portald.toml (endpoint, id, ca) и перезапустите
error-no-directory-people = этот портал не подключён к каталогу Сети, поэтому людей других порталов у него нет: задайте [directory] в portald.toml и перезапустите
error-admins-switch-network = переключать сетевое взаимодействие могут только администраторы портала
error-extranet-no-search = пользователи экстранета не ищут в каталоге Сети
error-search-network-off = сетевое взаимодействие на этом портале выключено; администратор включает его командой `portalctl network enable`
error-link-address-required = адрес обязателен: login@portal, который просил о присоединении (см. `portalctl network account requests`)
error-task-address-owner = адрес для задач показывается только его владельцу; администратор может его сбросить (`portalctl mail address reset --login LOGIN`)
error-invite-token-required = токен обязателен: тот, что в письме с приглашением
error-admins-workers = фоновые процессы видят только администраторы портала
error-admins-outbox = очередь репликации видят и повторяют только администраторы портала

## Задачи по e-mail (R18–R24); также слова отказов SMTP.
error-extranet-no-task-address = `{ $login }` — пользователь экстранета: адрес для задач есть только у сотрудников (R18)
error-no-such-address = такого адреса здесь нет: { $address } (сброшенный адрес для задач больше не работает)
error-address-owner-gone = владелец адреса { $address } здесь больше не работает
error-reply-from-other = этот адрес для ответа принадлежит другому получателю; отвечайте с адреса, на который пришло уведомление ({ $from } — не он)

## Что портал отвечает на предложения другого портала.
error-task-not-found-on = задача { $task } не найдена на { $portal }

## Составление письма.
error-mail-compose = не удалось составить письмо: { $reason }
error-proposal-refused = портал { $portal } отказал: { $reason }
error-file-over-limit = файл `{ $name }` больше предела в { $max } байтов
error-upload-starts-with-file = загрузка начинается одним сообщением с задачей и файлом, затем идут байты файла
error-file-needs-stream = файл { $file } занимает { $size } байтов; файлы больше { $max } байтов передаются только потоком (UploadFile, DownloadFile): обновите клиент
error-page-size-negative = page_size не может быть отрицательным (получено { $size }); 0 означает страницу по умолчанию
error-page-token-invalid = этот токен страницы выдан не этим порталом; отправьте без изменений next_page_token предыдущей страницы или ничего для первой страницы
error-page-token-other-request = токен страницы относится к запросу с другими фильтрами; повторите фильтры первой страницы или начните заново без токена
