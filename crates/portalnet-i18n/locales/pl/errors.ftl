# Odmowy, które portal wysyła do portalctl i innych klientów API, w języku, o który prosi
# klient (metadane gRPC `x-portal-language` lub `accept-language`).
error-token-missing = brak tokenu API: wyślij `authorization: Bearer <token>` (portalctl: --token lub PORTALCTL_TOKEN)
error-token-unknown = ten portal nie zna tego tokenu API: poproś administratora o token (`portalctl token issue LOGIN`)
error-user-dismissed = użytkownik `{ $login }` został zwolniony; jego tokeny już nie działają
error-storage = wewnętrzny błąd magazynu danych; operator portalu znajdzie szczegóły w dzienniku węzła
error-internal = błąd wewnętrzny; operator portalu znajdzie szczegóły w dzienniku węzła

## Reguły portalu (core). `{ $field }` to nazwa pola, tłumaczona przez komunikaty `field-*` poniżej.
error-bad-address = { $field }: `{ $value }` nie jest poprawnym adresem: użyj login@portal, np. `jan@beta.test` (ludzi znajdziesz przez `portalctl network search`), albo `mailto:{ $value }` dla osoby uczestniczącej przez e-mail
error-login-required = pole „{ $field }” jest wymagane (login, np. `anna`)
error-bad-login = { $field }: `{ $value }` nie jest poprawnym loginem: użyj od 2 do { $max } znaków a-z, 0-9, `.`, `_`, `-`, zaczynając od litery
error-bad-portal-id = identyfikator portalu `{ $value }` jest niepoprawny: użyj nazwy w stylu DNS, np. `alpha.test` (człony z a-z, 0-9, `-`)
error-required = pole „{ $field }” jest wymagane
error-too-many-chars = pole „{ $field }” ma { $n } { $n ->
        [one] znak
        [few] znaki
       *[many] znaków
    }; limit to { $max }
error-not-single-line = pole „{ $field }” musi być jednym wierszem bez znaków sterujących
error-too-many-bytes = pole „{ $field }” ma { $n } { $n ->
        [one] bajt
        [few] bajty
       *[many] bajtów
    }; limit to { $max } { $max ->
        [one] bajt
        [few] bajty
       *[many] bajtów
    }
error-control-chars = pole „{ $field }” zawiera znaki sterujące
error-bad-email = { $field }: `{ $value }` nie jest adresem e-mail: oczekiwano `nazwa@example.com`
error-email-required = pole „{ $field }” jest wymagane (adres e-mail)
error-group-not-extranet = grupa { $group } ({ $name }) nie jest dostępna w ekstranecie, więc nie można do niej zapraszać użytkowników zewnętrznych; jej właściciel może to włączyć: `portalctl group update { $group } --extranet`
error-invite-not-member = nie należysz do grupy { $group }, więc nie możesz do niej zapraszać
error-invite-owner-only = w grupie { $group } zapraszać może tylko właściciel ({ $owner })
error-group-owner-only = tylko właściciel grupy { $group } może ją zmieniać
error-empty-update = zmiana nie wskazuje żadnego pola: podaj przynajmniej jedno
error-add-member-denied = tylko właściciel lub moderator grupy { $group } może dodawać członków
error-one-owner = grupa ma jednego właściciela; dodaj tę osobę jako moderatora lub członka
error-owner-role-fixed = { $login } jest właścicielem grupy { $group }; roli właściciela nie można zmienić
error-invitation-used = to zaproszenie zostało już wykorzystane; zaloguj się tokenem otrzymanym wtedy albo poproś o nowe zaproszenie
error-invitation-expired = to zaproszenie wygasło; poproś osobę, która cię zaprosiła, o ponowne wysłanie
error-invitation-withdrawn = portal wycofał to zaproszenie
error-invitation-accepted = zaproszenie { $id } zostało przyjęte; nie ma czego wysyłać ponownie
error-invitation-revoked = zaproszenie { $id } zostało odwołane; zaproś tę osobę ponownie
error-invitation-not-pending = zaproszenie { $id } ma stan { $state }; odwołać można tylko oczekujące
error-seats-full = plan portalu obejmuje { $seats } { $seats ->
        [one] użytkownika biznesowego
       *[other] użytkowników biznesowych
    } (pracownicy i użytkownicy ekstranetu razem), a aktywnych jest { $used }; zwolnij kogoś lub podnieś limit (`portalctl portal plan set --seats N`)
error-task-not-found = nie znaleziono zadania { $task }
error-task-already = zadanie { $task } ma już status { $status }
error-edit-denied = tylko twórca zadania { $task } może je edytować
error-comment-denied = tylko uczestnicy zadania { $task } mogą je komentować
error-attach-denied = tylko twórca, osoba odpowiedzialna lub współwykonawcy zadania { $task } mogą dołączać pliki
error-status-path = osoba odpowiedzialna nie może przenieść zadania { $task } ze statusu { $from } do { $to }; poproś twórcę (to on przyjmuje i wznawia zadania)
error-status-denied = status zadania { $task } może zmienić tylko osoba odpowiedzialna lub twórca
error-too-many-participants = zadanie może mieć najwyżej { $max } { $max ->
        [one] uczestnika
       *[other] uczestników
    }; to ma { $n }
error-edit-too-many-participants = zadanie może mieć najwyżej { $max } { $max ->
        [one] uczestnika
       *[other] uczestników
    }; po tej zmianie miałoby { $n }
error-comment-required = treść komentarza jest wymagana
error-too-many-files = zadanie { $task } ma już { $n } { $n ->
        [one] plik
        [few] pliki
       *[many] plików
    }, najwięcej ile może mieć zadanie
error-file-name-required = nazwa pliku jest wymagana
error-file-name-path = nazwa pliku `{ $name }` nie może zawierać ścieżki: podaj samą nazwę
error-content-type = typ zawartości musi być typem MIME, np. `text/plain`
error-file-too-big = plik `{ $name }` ma { $size } { $size ->
        [one] bajt
        [few] bajty
       *[many] bajtów
    }; limit to { $max } { $max ->
        [one] bajt
        [few] bajty
       *[many] bajtów
    }
error-title-required = tytuł jest wymagany
error-deadline-range = termin musi być chwilą między rokiem 1970 a 9999

## Nazwy pól w odmowach.
field-login = login
field-display-name = nazwa wyświetlana
field-email = e-mail
field-e-mail = e-mail
field-position = stanowisko
field-title = tytuł
field-description = opis
field-comment = komentarz
field-group-name = nazwa grupy
field-group-description = opis grupy
field-file-name = nazwa pliku
field-invited-e-mail = zapraszany e-mail
field-new-e-mail = nowy e-mail
field-login-to-remove = login do usunięcia
field-responsible = odpowiedzialny
field-accomplices = współwykonawcy
field-observers = obserwatorzy
field-participant = uczestnik
field-address = adres
field-name = nazwa

## Reguły węzła portalu.
error-user-exists = użytkownik `{ $login }` już istnieje
error-extranet-no-browse = użytkownicy ekstranetu nie przeglądają pracowników portalu; członków swoich grup zobaczysz przez `portalctl group show ID`
error-user-not-found = w tym portalu nie ma użytkownika `{ $login }`
error-dismiss-self = nie możesz zwolnić samego siebie; poproś innego administratora
error-already-dismissed = użytkownik `{ $login }` jest już zwolniony
error-user-empty-update = zmiana nie wskazuje żadnego pola: podaj nazwę, stanowisko lub język
error-already-employee = `{ $login }` jest już pracownikiem (użytkownikiem intranetu)
error-is-dismissed = `{ $login }` jest zwolniony
error-already-extranet = `{ $login }` jest już użytkownikiem ekstranetu
error-no-move-to-extranet = użytkownika intranetu nie można przenieść do ekstranetu. Zamiast tego zwolnij `{ $login }` (`portalctl user dismiss { $login }`) i zaproś tę osobę ponownie jako użytkownika zewnętrznego pod innym adresem e-mail — albo najpierw nadaj zwolnionemu kontu inny adres (`portalctl user set-email { $login } NOWY-ADRES`), aby użyć tego ponownie
error-email-used-by = adres { $email } jest już używany przez `{ $login }`
error-email-used = adres { $email } jest już używany przez innego użytkownika tego portalu; wybierz inny adres lub zapytaj administratora
error-edit-elsewhere = zadanie { $task } ma dom w portalu { $portal }: edytować je może tylko jego twórca, tam
error-file-not-found = nie znaleziono pliku { $file } w zadaniu { $task }
error-extranet-no-email-people = użytkownicy ekstranetu nie mogą dodawać osób po adresie e-mail
error-extranet-no-remote = użytkownicy ekstranetu nie mogą angażować osób z innych portali (R13)
error-extranet-pick-members = użytkownicy ekstranetu mogą wybierać tylko członków swoich grup; `{ $login }` do nich nie należy
error-dismissed-no-tasks = użytkownik `{ $login }` jest zwolniony i nie może uczestniczyć w zadaniach
error-extranet-needs-group = `{ $login }` jest użytkownikiem ekstranetu: uczestniczy tylko w zadaniach swoich grup; umieść zadanie w jednej z nich (--group)
error-extranet-not-shared = `{ $login }` jest użytkownikiem ekstranetu i nie może uczestniczyć w zadaniu wspólnym z innymi portalami (R13)
error-not-group-member = nie należysz do grupy { $group }; zadania umieszczają w niej tylko jej członkowie
error-login-taken = login `{ $login }` jest w tym portalu zajęty; wybierz inny lub zostaw puste
error-group-left-extranet = grupa { $group } nie jest już dostępna w ekstranecie; zapytaj osobę, która cię zaprosiła
error-email-of-user = { $email } należy już do użytkownika tego portalu, więc nie można go zaprosić; aby zwolnić adres, ta osoba zmienia e-mail swojego konta w Sieci albo administrator zmienia e-mail konta (`portalctl user set-email LOGIN NOWY-ADRES`)
error-email-of-dismissed = { $email } należy już do (zwolnionego) użytkownika tego portalu, więc nie można go zaprosić; aby zwolnić adres, ta osoba zmienia e-mail swojego konta w Sieci albo administrator zmienia e-mail konta (`portalctl user set-email LOGIN NOWY-ADRES`)
error-email-invited = { $email } ma już oczekujące zaproszenie ({ $id }); wyślij je ponownie lub odwołaj (`portalctl invite resend { $id }`)
error-invitation-not-found = nie znaleziono zaproszenia { $id }
error-invitation-link-unknown = nie znaleziono zaproszenia: link może być błędnie przepisany, już użyty albo zastąpiony nowszym zaproszeniem
error-group-not-found = nie znaleziono grupy { $group }
error-extranet-no-groups = użytkownicy ekstranetu nie mogą tworzyć grup
error-too-many-invitations = jedno wywołanie może zaprosić najwyżej { $max } osób, a to wymienia { $n }: utwórz grupę z najwyżej { $max } zaproszeniami, a resztę zaproś z grupy (`portalctl group invite ID --email ADRES`)
error-extranet-add-own = użytkownicy ekstranetu mogą dodawać tylko osoby, z którymi dzielą grupę; innych niech doda pracownik
error-dismissed-no-groups = użytkownik `{ $login }` jest zwolniony i nie może dołączać do grup
error-extranet-user-group = `{ $login }` jest użytkownikiem ekstranetu, a grupa { $group } nie jest dostępna w ekstranecie (R2); jej właściciel może to włączyć: `portalctl group update { $group } --extranet`
error-no-portal = ten katalog danych nie zawiera portalu: najpierw uruchom `portald init`
error-admins-only = tylko administratorzy portalu mogą { $what }
error-employees-only = { $what } są dla pracowników portalu; użytkownicy ekstranetu widzą tylko swoje grupy i zadania
error-link-unknown = ten link do zadania nie jest tu znany: sprawdź, czy skopiowano go z e-maila w całości
error-link-revoked = ten link do zadania został odwołany; poproś twórcę zadania, by dodał cię ponownie
error-link-left = nie uczestniczysz już w tym zadaniu, więc jego link już nie działa
error-no-live-link = zadanie { $task } nie ma aktywnego linku dla { $participant }
error-not-participant = nie uczestniczysz w zadaniu { $task } (dom: { $portal }): zmieniają je tylko jego uczestnicy
error-network-off = komunikacja sieciowa w portalu { $portal } jest wyłączona: administrator włącza ją przez `portalctl network enable` (R13)
error-network-not-yet = komunikację sieciową w portalu { $portal } włączono { $since }; zadania z osobami z innych portali są możliwe od { $from } (R15)
error-portal-exists = ten katalog danych zawiera już portal
error-dismissed-no-token = użytkownik `{ $login }` jest zwolniony; token by nie działał
error-id-required = pole „{ $field }” jest wymagane (liczba od 1)
error-status-required = status jest wymagany: jeden z new, in_progress, awaiting_control, completed, deferred
error-bad-role = rola musi być member lub moderator
error-bad-invite-policy = zasada zapraszania musi być owner, moderators lub members
error-bad-report-by = `by` raportu musi być responsible, status lub group
error-bad-deadline = termin musi być dodatnim czasem w milisekundach od epoki (0: brak)
error-group-and-clear = podaj group_id albo clear_group, nie oba
error-no-network-accounts = komunikacja sieciowa w tym portalu jest wyłączona, więc nie ma on kont w Sieci do zmiany

## Czego dotyczą reguły administratorów i pracowników (`{ $what }` powyżej).
what-add-users = dodawać użytkowników
what-change-e-mail-addresses = zmieniać adresy e-mail
what-change-the-plan = zmieniać plan
what-change-users = zmieniać użytkowników
what-dismiss-users = zwalniać użytkowników
what-issue-api-tokens = wydawać tokeny API
what-move-users-to-the-intranet = przenosić użytkowników do intranetu
what-the-plan-and-its-seats = plan i jego miejsca
what-the-portal-s-network-settings = ustawienia Sieci portalu

## Pola żądań węzła.
field-task-id = id zadania
field-group-id = id grupy
field-invitation-id = id zaproszenia
field-file-id = id pliku
error-bad-language = portal nie zna języka `{ $value }`: użyj en, pl lub ru (puste: język portalu)

## Co powinien wiedzieć zapraszający (R6).
notice-portal-only = w grupie { $group } ({ $name }) członków dodają tylko właściciel i moderatorzy: { $email } dołączy do portalu jako użytkownik ekstranetu, ale nie do grupy; poproś właściciela lub moderatora o dodanie

## Odmowy obsługi API węzła.
error-no-directory = ten portal nie jest połączony z katalogiem Sieci: ustaw [directory] w portald.toml (endpoint, id, ca) i uruchom ponownie
error-no-directory-people = ten portal nie jest połączony z katalogiem Sieci, więc nie ma osób z innych portali: ustaw [directory] w portald.toml i uruchom ponownie
error-admins-switch-network = komunikację sieciową przełączają tylko administratorzy portalu
error-extranet-no-search = użytkownicy ekstranetu nie przeszukują katalogu Sieci
error-search-network-off = komunikacja sieciowa w tym portalu jest wyłączona; administrator włącza ją przez `portalctl network enable`
error-link-address-required = adres jest wymagany: login@portal, który poprosił o dołączenie (zobacz `portalctl network account requests`)
error-task-address-owner = adres zadań widzi tylko jego właściciel; administrator może go zresetować (`portalctl mail address reset --login LOGIN`)
error-invite-token-required = token jest wymagany: ten z e-maila z zaproszeniem
error-admins-workers = procesy w tle widzą tylko administratorzy portalu
error-admins-outbox = kolejkę replikacji widzą i ponawiają tylko administratorzy portalu

## Zadania przez e-mail (R18–R24); także słowa odmów SMTP.
error-extranet-no-task-address = `{ $login }` jest użytkownikiem ekstranetu: adres zadań mają tylko pracownicy (R18)
error-no-such-address = nie ma tu takiego adresu: { $address } (zresetowany adres zadań już nie działa)
error-address-owner-gone = właściciel adresu { $address } już tu nie pracuje
error-reply-from-other = ten adres odpowiedzi należy do innego odbiorcy; odpowiedz z adresu, na który wysłano powiadomienie ({ $from } nim nie jest)

## Co portal odpowiada na propozycje innego portalu.
error-task-not-found-on = nie znaleziono zadania { $task } w { $portal }

## Składanie wiadomości e-mail.
error-mail-compose = nie można złożyć wiadomości e-mail: { $reason }
error-proposal-refused = portal { $portal } odmówił: { $reason }
error-file-over-limit = plik `{ $name }` przekracza limit { $max } bajtów
error-upload-starts-with-file = przesyłanie zaczyna się jedną wiadomością wskazującą zadanie i plik, potem idą bajty pliku
error-file-needs-stream = plik { $file } ma { $size } bajtów; pliki większe niż { $max } bajtów przesyła się tylko strumieniowo (UploadFile, DownloadFile): zaktualizuj klienta
error-page-size-negative = page_size nie może być ujemny (podano { $size }); 0 oznacza stronę domyślną
error-page-token-invalid = ten token strony nie pochodzi z tego portalu; wyślij bez zmian next_page_token poprzedniej strony albo żaden dla pierwszej strony
error-page-token-other-request = token strony należy do zapytania z innymi filtrami; powtórz filtry pierwszej strony albo zacznij od nowa bez tokenu
