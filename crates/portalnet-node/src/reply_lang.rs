//! The language a gRPC answer is said in. The rpc layer runs every call inside a
//! scope holding what the client asked for (`x-portal-language`, which portalctl
//! sends from `--language` or the locale, else `accept-language`); authentication
//! adds the reader's own language (the user's, else the portal's). Refusals are
//! turned into a `Status` in the one conversion of `error.rs`, which asks
//! [`current`]: what the client asked for, else the reader's, else English.

use portalnet_mail::Lang;
use std::cell::Cell;
use std::future::Future;

struct Reply {
    asked: Option<Lang>,
    reader: Cell<Option<Lang>>,
}

tokio::task_local! {
    static REPLY: Reply;
}

/// The language a client asks for in its request headers, if it is one of ours.
pub fn asked(headers: &http::HeaderMap) -> Option<Lang> {
    let get = |k: &str| headers.get(k).and_then(|v| v.to_str().ok());
    get("x-portal-language")
        .and_then(Lang::parse)
        .or_else(|| get("accept-language").and_then(Lang::from_accept_language))
}

/// Runs one call with the language its client asked for.
pub async fn scope<F: Future>(asked: Option<Lang>, fut: F) -> F::Output {
    REPLY.scope(Reply { asked, reader: Cell::new(None) }, fut).await
}

/// The reader's own language (the user's, or the portal's before the user is known).
pub fn set_reader(lang: Lang) {
    let _ = REPLY.try_with(|r| r.reader.set(Some(lang)));
}

/// The language of the current call's answer (English outside a call).
pub fn current() -> Lang {
    REPLY.try_with(|r| r.asked.or(r.reader.get())).ok().flatten().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn asked_wins_then_the_reader_then_english() {
        assert_eq!(current(), Lang::En);
        scope(None, async {
            assert_eq!(current(), Lang::En);
            set_reader(Lang::Ru);
            assert_eq!(current(), Lang::Ru);
        })
        .await;
        scope(Some(Lang::Pl), async {
            set_reader(Lang::Ru);
            assert_eq!(current(), Lang::Pl);
        })
        .await;
        let mut h = http::HeaderMap::new();
        h.insert("accept-language", http::HeaderValue::from_static("ru-RU,en;q=0.5"));
        assert_eq!(asked(&h), Some(Lang::Ru));
        h.insert("x-portal-language", http::HeaderValue::from_static("pl_PL.UTF-8"));
        assert_eq!(asked(&h), Some(Lang::Pl));
    }
}
