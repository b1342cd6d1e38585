//! Reply stripping by mail client: what the author newly wrote is kept, quotes cut.

use super::strip_reply;

/// (client and style, message body, what the author newly wrote)
#[rustfmt::skip]
const CASES: &[(&str, &str, &str)] = &[
    ("plain message, nothing to cut",
     "Hello,\n\nthe invoice is attached.\n\nRegards\nAnna",
     "Hello,\n\nthe invoice is attached.\n\nRegards\nAnna"),

    ("Gmail top-posting",
     "Done, see the new version.\r\n\r\nOn Fri, Apr 12, 2024 at 3:30 PM Portal <task-12@portal.example> wrote:\r\n\r\n> Please update the report.\r\n> \r\n> -- \r\n> Portal\r\n",
     "Done, see the new version."),

    ("Gmail top-posting, attribution wrapped over two lines",
     "Thanks!\n\nOn Fri, Apr 12, 2024 at 3:30 PM Very Long Sender Name <\nvery.long.sender.name@example.com> wrote:\n\n> Original\n",
     "Thanks!"),

    ("Apple Mail top-posting with iPhone signature",
     "I will be late.\n\nSent from my iPhone\n\n> On 12 Apr 2024, at 15:30, John Doe <john@example.com> wrote:\n> \n> Meeting at 10?\n",
     "I will be late."),

    ("Apple Mail, attribution unquoted",
     "Sure.\n\n> On 12 Apr 2024, at 15:30, John Doe <john@example.com> wrote:\n>\n> Can you?\n",
     "Sure."),

    ("Thunderbird top-posting",
     "Agreed.\n\nOn 12/04/2024 15:30, John Doe wrote:\n> Shall we ship?\n",
     "Agreed."),

    ("Outlook top-posting with Original Message",
     "Approved.\r\n\r\nBest regards,\r\nMark\r\n\r\n-----Original Message-----\r\nFrom: Portal <task-12@portal.example>\r\nSent: Friday, April 12, 2024 3:30 PM\r\nTo: Mark <mark@example.com>\r\nSubject: Task 12\r\n\r\nPlease approve.\r\n",
     "Approved.\n\nBest regards,\nMark"),

    ("Outlook top-posting with header block and underscores",
     "Ok, handled.\n\n________________________________\nFrom: Portal <task-12@portal.example>\nSent: Friday, April 12, 2024 3:30 PM\nTo: Mark\nSubject: Task 12\n\nPlease handle.\n",
     "Ok, handled."),

    ("Outlook for Mac bold header block",
     "Yes.\n\n*From: *Portal <task-12@portal.example>\n*Date: *Friday, 12 April 2024 at 15:30\n*To: *Mark\n\nQuestion?\n",
     "Yes."),

    ("Get Outlook for Android",
     "On my way\n\nGet Outlook for Android<https://aka.ms/AAb9ysg>\n________________________________\nFrom: Portal <x@portal.example>\nSent: Friday\n",
     "On my way"),

    ("bottom-posting",
     "On Fri, Apr 12, 2024 at 3:30 PM Portal <task@portal.example> wrote:\n> Please update the report.\n> Thanks\n\nUpdated, see attachment.\n",
     "Updated, see attachment."),

    ("bottom-posting without attribution",
     "> Can you call me?\n\nYes, at 5.\n",
     "Yes, at 5."),

    ("inline reply",
     "John Doe wrote:\n> 1. Is the budget approved?\nYes.\n> 2. Who signs?\nAnna signs.\n> 3. When?\n\nMonday.\n\n-- \nMark Smith\nACME Corp\n",
     "Yes.\n\nAnna signs.\n\nMonday."),

    ("signature delimiter without trailing space",
     "Fine by me.\n--\nMark\n+48 600 000 000\n",
     "Fine by me."),

    ("Polish Gmail",
     "Zrobione, poprawiłem tabelę.\n\npt., 12 kwi 2024 o 15:30 Jan Kowalski <jan@example.pl> napisał(a):\n\n> Proszę poprawić tabelę.\n",
     "Zrobione, poprawiłem tabelę."),

    ("Polish Thunderbird",
     "Dziękuję!\n\nW dniu 12.04.2024 o 15:30, Jan Kowalski pisze:\n> Przesyłam plik.\n",
     "Dziękuję!"),

    ("Polish Thunderbird, wrapped",
     "Dziękuję!\n\nW dniu 12.04.2024 o 15:30, Jan Kowalski z Działu Księgowości Firmy\nPrzykładowej pisze:\n> Przesyłam plik.\n",
     "Dziękuję!"),

    ("Polish Outlook",
     "Akceptuję.\n\nWysłane z mojego iPhone'a\n\n-----Wiadomość oryginalna-----\nOd: Portal <task@portal.example>\nWysłano: piątek, 12 kwietnia 2024 15:30\nDo: Jan\nTemat: Zadanie\n\nProszę o akceptację.\n",
     "Akceptuję."),

    ("Russian Thunderbird",
     "Готово.\n\n12.04.2024 15:30, Иван Петров пишет:\n> Сделайте, пожалуйста, отчёт.\n",
     "Готово."),

    ("Russian написал(а)",
     "Согласен.\n\nИван Петров написал(а):\n> Подтвердите.\n",
     "Согласен."),

    ("Russian Gmail, no verb",
     "Принято.\n\nпт, 12 апр. 2024 г. в 15:30, Иван Петров <ivan@example.ru>:\n\n> Вопрос по задаче.\n",
     "Принято."),

    ("Russian Outlook with mobile signature",
     "Да, всё верно.\n\nОтправлено с iPhone\n\nОт: Портал <task@portal.example>\nОтправлено: 12 апреля 2024 г. 15:30\nКому: Иван\nТема: Задача\n",
     "Да, всё верно."),

    ("HTML-only top-posting turned into text keeps no quote marks",
     "Looks good.\n\nOn Fri, Apr 12, 2024 at 3:30 PM Portal <task@portal.example> wrote:\n\nPlease review the draft.\nThanks\n",
     "Looks good."),

    ("prose that merely ends with wrote: is kept",
     "Here is what the client wrote:\nthey want it by Friday.\n",
     "Here is what the client wrote:\nthey want it by Friday."),

    ("forwarded message is kept",
     "FYI, see below.\n\n---------- Forwarded message ---------\nFrom: Anna <anna@example.com>\nDate: Fri, Apr 12, 2024\nSubject: Contract\n\nSigned copy attached.\n",
     "FYI, see below.\n\n---------- Forwarded message ---------\nFrom: Anna <anna@example.com>\nDate: Fri, Apr 12, 2024\nSubject: Contract\n\nSigned copy attached."),

    ("only quote, nothing new",
     "On Fri, Apr 12, 2024 John wrote:\n> old text\n",
     ""),

    ("CR-only line ends",
     "Done.\r\rOn Fri, Apr 12, 2024, John wrote:\r> old\r",
     "Done."),
];

#[test]
fn table() {
    let mut failures = Vec::new();
    for (name, input, want) in CASES {
        let got = strip_reply(input);
        if got != *want {
            failures.push(format!("{name}:\n  want {want:?}\n  got  {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

mod props {
    use proptest::prelude::*;

    use super::{CASES, strip_reply};

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in any::<String>()) {
            let out = strip_reply(&text);
            prop_assert!(!out.contains('\r'));
            prop_assert!(!out.starts_with('\n') && !out.ends_with('\n'));
        }

        #[test]
        fn mutated_samples_never_panic(
            case in 0..CASES.len(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<char>(), any::<bool>()), 0..16),
        ) {
            let mut text: Vec<char> = CASES[case].1.chars().collect();
            for (at, ch, insert) in edits {
                if text.is_empty() { text.push(ch); continue; }
                let i = at.index(text.len());
                if insert { text.insert(i, ch) } else { text[i] = ch }
            }
            let text: String = text.into_iter().collect();
            let _ = strip_reply(&text);
        }

        #[test]
        fn lines_of_mail_shaped_text_never_panic(
            lines in proptest::collection::vec(
                prop_oneof![
                    Just(">".to_string()), Just("-- ".to_string()), Just("".to_string()),
                    Just("On Mon, John <".to_string()), Just("j@x> wrote:".to_string()),
                    Just("From: a".to_string()), Just("Sent: b".to_string()),
                    Just("________".to_string()), "[a-zA-Zżółćпишет:<>@ ]{0,40}",
                ],
                0..30,
            )
        ) {
            let _ = strip_reply(&lines.join("\n"));
        }
    }
}
