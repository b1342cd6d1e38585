# Strony portalu: strona zaproszenia i strona zadania dla uczestników e-mailowych.

## Strona zaproszenia
page-invitation = Zaproszenie
page-invited = Zapraszamy Cię do portalu { $portal } jako użytkownika zewnętrznego (ekstranet), z adresem { $email }.
page-invited-group = Zapraszamy Cię do grupy { $group } w portalu { $portal } jako użytkownika zewnętrznego (ekstranet), z adresem { $email }.
page-valid-until = Zaproszenie jest ważne do { $expires }.
page-your-name = Imię i nazwisko
page-login-optional = Login (opcjonalnie)
page-accept = Przyjmij zaproszenie
page-accepted = Zaproszenie przyjęte
page-welcome = Witaj, { $name }. Jesteś teraz użytkownikiem zewnętrznym portalu { $portal } z loginem { $login }.
page-token-once = Twój token API (pokazywany tylko raz; zachowaj go w tajemnicy):
page-use-token = Użyj go z portalctl:

## Strona zadania
page-task = Zadanie
page-task-meta = { $portal } · zadanie { $id }
page-status = Status:
page-deadline = termin { $deadline }
page-people = Osoby
page-creator = Autor: { $name }
page-responsible = Odpowiedzialny: { $name }
page-co-executor = Współwykonawca: { $name }
page-observer = Obserwator: { $name }
page-files = Pliki
page-file-size = { $size ->
        [one] { $size } bajt
        [few] { $size } bajty
        [many] { $size } bajtów
       *[other] { $size } bajta
    }
page-comments = Komentarze
page-add-comment = Dodaj komentarz
page-comment-as = Komentujesz jako { $email }.
page-post-comment = Wyślij komentarz
page-more-comments = Późniejsze komentarze →
page-first-comments = ← Pierwsze komentarze
