# Wiadomości e-mail wysyłane przez portal. Zmienne: $portal (nazwa portalu), $title (tytuł
# zadania), $by / $author (imię i nazwisko), $count (liczba: stosuje się formy mnogie).

## Data i godzina: $year, $month (1–12), $day, $mm i $dd (z zerem), $time (GG:MM, UTC).
datetime = { $day } { $month ->
        [1] stycznia
        [2] lutego
        [3] marca
        [4] kwietnia
        [5] maja
        [6] czerwca
        [7] lipca
        [8] sierpnia
        [9] września
        [10] października
        [11] listopada
       *[12] grudnia
    } { $year }, { $time } UTC

## Zaproszenie użytkownika zewnętrznego (R4)
invite-subject = Zaproszenie do portalu { $portal }
invite-subject-group = Zaproszenie do grupy { $group } w portalu { $portal }
invite-hello = Dzień dobry,
invite-body = Użytkownik { $inviter } zaprasza Cię do portalu { $portal } jako użytkownika zewnętrznego.
invite-body-group = Użytkownik { $inviter } zaprasza Cię do grupy „{ $group }” w portalu { $portal }.
invite-open-link = Aby przyjąć zaproszenie, otwórz ten link:
invite-accept = Przyjmij zaproszenie
invite-or-cli = Możesz też użyć narzędzia wiersza poleceń portalctl:
invite-your-name = Imię i nazwisko
invite-valid-until = Zaproszenie jest ważne do { $expires }.
invite-ignore = Jeśli nie spodziewasz się tej wiadomości, możesz ją zignorować.

## Powiadomienia o zadaniach dla uczestników e-mailowych (R21–R23)
notice-added = Użytkownik { $by } dodał Cię do zadania „{ $title }” jako { $role ->
        [responsible] osobę odpowiedzialną
        [co-executor] współwykonawcę
       *[observer] obserwatora
    }.
notice-status-line = Status: { $status }
notice-deadline-line = Termin: { $deadline }
notice-files = { $count ->
        [one] Zadanie ma { $count } plik.
        [few] Zadanie ma { $count } pliki.
        [many] Zadanie ma { $count } plików.
       *[other] Zadanie ma { $count } pliku.
    }
notice-comment = Użytkownik { $author } dodał komentarz:
notice-status-changed = Użytkownik { $by } zmienił status z „{ $from }” na „{ $to }”.
notice-deadline-changed = Użytkownik { $by } zmienił termin z { $from } na { $to }.
notice-no-deadline = brak
notice-task-link = Zadanie: { $url }
notice-open-task = Otwórz zadanie
notice-reply-hint = Odpowiedz na tę wiadomość, aby skomentować zadanie; pisz nad cytowanym tekstem.

## Statusy zadań
status-new = nowe
status-in-progress = w toku
status-awaiting-control = czeka na kontrolę
status-completed = zakończone
status-deferred = odłożone
