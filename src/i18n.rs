//! Texts of the warning dialog and the expiry cover, in several languages.
//!
//! The browser script never holds texts of its own: the server renders them
//! into the snippet, and the script only chooses a plural form with
//! `Intl.PluralRules`.
//!
//! Adding a language: its variant, its place in `Language::ALL`, its arm in
//! `Language::texts` and one `Texts` table holding everything it says (the
//! dialog, the cover and the login page's notices); the tests check that
//! every text is there.

/// Every text the browser shows, in one language (read-only: new texts
/// come in minor releases).
///
/// ```
/// use rocket_session_security::Language;
///
/// let texts = Language::Czech.texts();
/// assert_eq!(texts.tag, "cs");
/// // Plural forms of the countdown by CLDR category; the script picks one with Intl.PluralRules.
/// assert!(texts.seconds.iter().any(|&(category, form)| category == "few" && form == "{n} sekundy"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Texts {
    /// BCP 47 tag, used for `lang` and the plural rules.
    pub tag: &'static str,
    /// Dialog heading.
    pub title: &'static str,
    /// What to do to stay signed in.
    pub message: &'static str,
    /// Label before the countdown.
    pub time_left: &'static str,
    /// Countdown forms by CLDR plural category; `{n}` is the number.
    pub seconds: &'static [(&'static str, &'static str)],
    /// The button that extends the session.
    pub stay: &'static str,
    /// The button that signs out at once.
    pub sign_out: &'static str,
    /// Shown in the warning when the person's request to stay signed in (or other activity)
    /// did not reach the server, while the script keeps trying.
    pub unreached: &'static str,
    /// Shown in the warning when "Sign out now" did not sign out: the app's
    /// logout URL refused it (e.g. its CSRF check) or could not be reached.
    pub sign_out_failed: &'static str,
    /// Heading of the cover shown over a page kept for its unsaved input.
    pub cover_title: &'static str,
    /// Explanation on the cover.
    pub cover_message: &'static str,
    /// The link on the cover that opens the sign-in page in a new tab.
    pub cover_link: &'static str,
    // The login page's flash messages (server side only): `{d}` is a duration
    // made of the units, `{n}` a number.
    pub(crate) idle_notice: &'static str,
    pub(crate) absolute_notice: &'static str,
    pub(crate) invalid_notice: &'static str,
    pub(crate) revoked_notice: &'static str,
    pub(crate) reauthenticate_notice: &'static str,
    pub(crate) minutes_unit: &'static str,
    pub(crate) seconds_unit: &'static str,
}

/// A language the crate has texts for.
///
/// ```
/// use rocket_session_security::Language;
///
/// assert_eq!(Language::from_tag("de-AT"), Some(Language::German));
/// assert_eq!(Language::negotiate("da, fr-CH;q=0.8, en;q=0.5"), Language::French);
/// assert_eq!(Language::negotiate("da"), Language::English);
/// assert_eq!(Language::Polish.texts().stay, "Nie wylogowuj");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Language {
    /// en
    English,
    /// fr
    French,
    /// de
    German,
    /// es
    Spanish,
    /// it
    Italian,
    /// pt
    Portuguese,
    /// nl
    Dutch,
    /// pl
    Polish,
    /// cs
    Czech,
    /// ja
    Japanese,
}

impl Language {
    /// Every language, English first. A slice: languages may be added.
    pub const ALL: &'static [Language] = &[
        Language::English,
        Language::French,
        Language::German,
        Language::Spanish,
        Language::Italian,
        Language::Portuguese,
        Language::Dutch,
        Language::Polish,
        Language::Czech,
        Language::Japanese,
    ];

    /// The tags accepted by the `language` setting, for error messages:
    /// `"en, fr, …"`, in the order of [`ALL`](Self::ALL).
    ///
    /// ```
    /// assert!(rocket_session_security::Language::tags().starts_with("en, fr, "));
    /// ```
    pub fn tags() -> String {
        Language::ALL.iter().map(|l| l.tag()).collect::<Vec<_>>().join(", ")
    }

    /// The language of a BCP 47 tag (`fr`, `pt-BR`, `de_AT`), by its primary subtag.
    pub fn from_tag(tag: &str) -> Option<Language> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Language::ALL.iter().copied().find(|l| l.texts().tag == primary)
    }

    /// The best language for an `Accept-Language` header, by `q` weight;
    /// English when nothing matches or the header is malformed.
    pub fn negotiate(accept_language: &str) -> Language {
        let mut best: Option<(Language, u16)> = None;
        for item in accept_language.split(',').take(32) {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("");
            let weight = parts.find_map(|p| p.trim().strip_prefix("q=")).map_or(Some(1000), parse_weight);
            if let (Some(language), Some(weight)) = (Language::from_tag(tag), weight) {
                if weight > 0 && best.is_none_or(|(_, w)| weight > w) {
                    best = Some((language, weight));
                }
            }
        }
        best.map_or(Language::English, |(language, _)| language)
    }

    /// The language's tag, e.g. `fr`.
    pub fn tag(self) -> &'static str {
        self.texts().tag
    }

    /// The texts of this language.
    pub fn texts(self) -> &'static Texts {
        match self {
            Language::English => &EN,
            Language::French => &FR,
            Language::German => &DE,
            Language::Spanish => &ES,
            Language::Italian => &IT,
            Language::Portuguese => &PT,
            Language::Dutch => &NL,
            Language::Polish => &PL,
            Language::Czech => &CS,
            Language::Japanese => &JA,
        }
    }
}

/// A `q` value (`0`, `0.5`, `1.000`) in thousandths; `None` when malformed.
fn parse_weight(q: &str) -> Option<u16> {
    let (whole, fraction) = q.trim().split_once('.').unwrap_or((q.trim(), ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

static EN: Texts = Texts {
    tag: "en",
    title: "Your session is about to expire",
    message: "To stay signed in, press any key or choose “Stay signed in”.",
    time_left: "Time left:",
    seconds: &[("one", "{n} second"), ("other", "{n} seconds")],
    stay: "Stay signed in",
    sign_out: "Sign out now",
    unreached: "Your request did not reach the server. Trying again…",
    sign_out_failed: "Signing out did not work. Try again.",
    cover_title: "You have been signed out",
    cover_message: "What you typed on this page is kept: sign in again in another tab, then come back here. If someone else signs in, it is discarded.",
    cover_link: "Open the sign-in page in a new tab",
    idle_notice: "You were signed out after {d} of inactivity.",
    absolute_notice: "You were signed out because your session reached its time limit.",
    invalid_notice: "Please sign in again.",
    revoked_notice: "Your session was ended (signed out on this or another device). Please sign in again.",
    reauthenticate_notice: "Please sign in again to continue: this page asks for a recent sign-in.",
    minutes_unit: "{n} min",
    seconds_unit: "{n} s",
};

static FR: Texts = Texts {
    tag: "fr",
    title: "Votre session va bientôt expirer",
    message: "Pour rester connecté, appuyez sur une touche ou choisissez « Rester connecté ».",
    time_left: "Temps restant :",
    seconds: &[("one", "{n} seconde"), ("many", "{n} de secondes"), ("other", "{n} secondes")],
    stay: "Rester connecté",
    sign_out: "Se déconnecter",
    unreached: "Votre demande n’a pas atteint le serveur. Nouvelle tentative…",
    sign_out_failed: "La déconnexion n’a pas abouti. Réessayez.",
    cover_title: "Vous avez été déconnecté",
    cover_message: "Ce que vous avez saisi sur cette page est conservé : reconnectez-vous dans un autre onglet, puis revenez ici. Si quelqu’un d’autre se connecte, il est effacé.",
    cover_link: "Ouvrir la page de connexion dans un nouvel onglet",
    idle_notice: "Vous avez été déconnecté après {d} d'inactivité.",
    absolute_notice: "Vous avez été déconnecté, car votre session a atteint sa durée maximale.",
    invalid_notice: "Veuillez vous reconnecter.",
    revoked_notice: "Votre session a été fermée (déconnexion sur cet appareil ou un autre). Veuillez vous reconnecter.",
    reauthenticate_notice: "Veuillez vous reconnecter pour continuer : cette page demande une connexion récente.",
    minutes_unit: "{n} min",
    seconds_unit: "{n} s",
};

static DE: Texts = Texts {
    tag: "de",
    title: "Ihre Sitzung läuft gleich ab",
    message: "Um angemeldet zu bleiben, drücken Sie eine beliebige Taste oder wählen Sie „Angemeldet bleiben“.",
    time_left: "Verbleibende Zeit:",
    seconds: &[("one", "{n} Sekunde"), ("other", "{n} Sekunden")],
    stay: "Angemeldet bleiben",
    sign_out: "Jetzt abmelden",
    unreached: "Ihre Anfrage hat den Server nicht erreicht. Erneuter Versuch …",
    sign_out_failed: "Die Abmeldung hat nicht funktioniert. Bitte versuchen Sie es erneut.",
    cover_title: "Sie wurden abgemeldet",
    cover_message: "Ihre Eingaben auf dieser Seite bleiben erhalten: Melden Sie sich in einem anderen Tab erneut an und kehren Sie dann hierher zurück. Meldet sich jemand anderes an, werden sie verworfen.",
    cover_link: "Anmeldeseite in neuem Tab öffnen",
    idle_notice: "Sie wurden nach {d} Inaktivität abgemeldet.",
    absolute_notice: "Sie wurden abgemeldet, weil Ihre Sitzung ihre Höchstdauer erreicht hat.",
    invalid_notice: "Bitte melden Sie sich erneut an.",
    revoked_notice: "Ihre Sitzung wurde beendet (Abmeldung auf diesem oder einem anderen Gerät). Bitte melden Sie sich erneut an.",
    reauthenticate_notice: "Bitte melden Sie sich erneut an, um fortzufahren: Diese Seite verlangt eine kürzlich erfolgte Anmeldung.",
    minutes_unit: "{n} Min.",
    seconds_unit: "{n} s",
};

static ES: Texts = Texts {
    tag: "es",
    title: "Su sesión está a punto de caducar",
    message: "Para mantener la sesión iniciada, pulse cualquier tecla o elija «Mantener la sesión».",
    time_left: "Tiempo restante:",
    seconds: &[("one", "{n} segundo"), ("many", "{n} de segundos"), ("other", "{n} segundos")],
    stay: "Mantener la sesión",
    sign_out: "Cerrar sesión ahora",
    unreached: "Su solicitud no ha llegado al servidor. Volviendo a intentarlo…",
    sign_out_failed: "No se ha podido cerrar la sesión. Inténtelo de nuevo.",
    cover_title: "Se ha cerrado su sesión",
    cover_message: "Lo que escribió en esta página se conserva: vuelva a iniciar sesión en otra pestaña y regrese aquí. Si otra persona inicia sesión, se descarta.",
    cover_link: "Abrir la página de inicio de sesión en una pestaña nueva",
    idle_notice: "Se cerró su sesión tras {d} de inactividad.",
    absolute_notice: "Se cerró su sesión porque alcanzó su duración máxima.",
    invalid_notice: "Vuelva a iniciar sesión.",
    revoked_notice: "Su sesión se ha cerrado (en este u otro dispositivo). Vuelva a iniciar sesión.",
    reauthenticate_notice: "Vuelva a iniciar sesión para continuar: esta página requiere un inicio de sesión reciente.",
    minutes_unit: "{n} min",
    seconds_unit: "{n} s",
};

static IT: Texts = Texts {
    tag: "it",
    title: "La sessione sta per scadere",
    message: "Per restare connesso, premi un tasto qualsiasi o scegli «Resta connesso».",
    time_left: "Tempo rimasto:",
    seconds: &[("one", "{n} secondo"), ("many", "{n} di secondi"), ("other", "{n} secondi")],
    stay: "Resta connesso",
    sign_out: "Esci ora",
    unreached: "La tua richiesta non ha raggiunto il server. Nuovo tentativo in corso…",
    sign_out_failed: "La disconnessione non è riuscita. Riprova.",
    cover_title: "Sei stato disconnesso",
    cover_message: "Ciò che hai scritto in questa pagina viene conservato: accedi di nuovo in un’altra scheda, poi torna qui. Se accede un’altra persona, viene eliminato.",
    cover_link: "Apri la pagina di accesso in una nuova scheda",
    idle_notice: "Sei stato disconnesso dopo {d} di inattività.",
    absolute_notice: "Sei stato disconnesso perché la sessione ha raggiunto la durata massima.",
    invalid_notice: "Accedi di nuovo.",
    revoked_notice: "La tua sessione è stata chiusa (su questo o un altro dispositivo). Accedi di nuovo.",
    reauthenticate_notice: "Accedi di nuovo per continuare: questa pagina richiede un accesso recente.",
    minutes_unit: "{n} min",
    seconds_unit: "{n} s",
};

static PT: Texts = Texts {
    tag: "pt",
    title: "A sua sessão está prestes a expirar",
    message: "Para continuar com sessão iniciada, prima qualquer tecla ou escolha «Manter sessão».",
    time_left: "Tempo restante:",
    seconds: &[("one", "{n} segundo"), ("many", "{n} de segundos"), ("other", "{n} segundos")],
    stay: "Manter sessão",
    sign_out: "Terminar sessão",
    unreached: "O seu pedido não chegou ao servidor. A tentar novamente…",
    sign_out_failed: "Não foi possível terminar a sessão. Tente novamente.",
    cover_title: "A sua sessão foi terminada",
    cover_message: "O que escreveu nesta página é guardado: inicie sessão novamente noutro separador e volte aqui. Se outra pessoa iniciar sessão, é descartado.",
    cover_link: "Abrir a página de início de sessão num novo separador",
    idle_notice: "A sua sessão foi terminada após {d} de inatividade.",
    absolute_notice: "A sua sessão foi terminada porque atingiu a duração máxima.",
    invalid_notice: "Inicie sessão novamente.",
    revoked_notice: "A sua sessão foi terminada (neste ou noutro dispositivo). Inicie sessão novamente.",
    reauthenticate_notice: "Inicie sessão novamente para continuar: esta página exige um início de sessão recente.",
    minutes_unit: "{n} min",
    seconds_unit: "{n} s",
};

static NL: Texts = Texts {
    tag: "nl",
    title: "Uw sessie verloopt binnenkort",
    message: "Druk op een willekeurige toets of kies ‘Aangemeld blijven’ om aangemeld te blijven.",
    time_left: "Resterende tijd:",
    seconds: &[("one", "{n} seconde"), ("other", "{n} seconden")],
    stay: "Aangemeld blijven",
    sign_out: "Nu afmelden",
    unreached: "Uw verzoek heeft de server niet bereikt. Er wordt opnieuw geprobeerd…",
    sign_out_failed: "Afmelden is niet gelukt. Probeer het opnieuw.",
    cover_title: "U bent afgemeld",
    cover_message: "Wat u op deze pagina hebt ingevuld, blijft bewaard: meld u opnieuw aan in een ander tabblad en kom dan hier terug. Meldt iemand anders zich aan, dan wordt het verwijderd.",
    cover_link: "Aanmeldpagina openen in een nieuw tabblad",
    idle_notice: "U bent afgemeld na {d} inactiviteit.",
    absolute_notice: "U bent afgemeld omdat uw sessie de maximale duur heeft bereikt.",
    invalid_notice: "Meld u opnieuw aan.",
    revoked_notice: "Uw sessie is beëindigd (afgemeld op dit of een ander apparaat). Meld u opnieuw aan.",
    reauthenticate_notice: "Meld u opnieuw aan om verder te gaan: deze pagina vraagt om een recente aanmelding.",
    minutes_unit: "{n} min",
    seconds_unit: "{n} s",
};

static PL: Texts = Texts {
    tag: "pl",
    title: "Twoja sesja zaraz wygaśnie",
    message: "Aby pozostać zalogowanym, naciśnij dowolny klawisz lub wybierz „Nie wylogowuj”.",
    time_left: "Pozostały czas:",
    seconds: &[("one", "{n} sekunda"), ("few", "{n} sekundy"), ("many", "{n} sekund"), ("other", "{n} sekundy")],
    stay: "Nie wylogowuj",
    sign_out: "Wyloguj teraz",
    unreached: "Twoje żądanie nie dotarło do serwera. Ponawianie próby…",
    sign_out_failed: "Nie udało się wylogować. Spróbuj ponownie.",
    cover_title: "Zostałeś wylogowany",
    cover_message: "To, co wpisano na tej stronie, zostanie zachowane: zaloguj się ponownie w innej karcie i wróć tutaj. Jeśli zaloguje się ktoś inny, zostanie to usunięte.",
    cover_link: "Otwórz stronę logowania w nowej karcie",
    idle_notice: "Wylogowano Cię po {d} bezczynności.",
    absolute_notice: "Wylogowano Cię, ponieważ sesja osiągnęła maksymalny czas trwania.",
    invalid_notice: "Zaloguj się ponownie.",
    revoked_notice: "Twoja sesja została zakończona (wylogowanie na tym lub innym urządzeniu). Zaloguj się ponownie.",
    reauthenticate_notice: "Zaloguj się ponownie, aby kontynuować: ta strona wymaga niedawnego logowania.",
    minutes_unit: "{n} min",
    seconds_unit: "{n} s",
};

static CS: Texts = Texts {
    tag: "cs",
    title: "Vaše relace brzy vyprší",
    message: "Chcete-li zůstat přihlášeni, stiskněte libovolnou klávesu nebo zvolte „Zůstat přihlášen“.",
    time_left: "Zbývající čas:",
    seconds: &[("one", "{n} sekunda"), ("few", "{n} sekundy"), ("many", "{n} sekundy"), ("other", "{n} sekund")],
    stay: "Zůstat přihlášen",
    sign_out: "Odhlásit se",
    unreached: "Váš požadavek nedorazil na server. Zkoušíme to znovu…",
    sign_out_failed: "Odhlášení se nezdařilo. Zkuste to znovu.",
    cover_title: "Byli jste odhlášeni",
    cover_message: "Co jste na této stránce zadali, zůstane zachováno: přihlaste se znovu v jiné kartě a vraťte se sem. Pokud se přihlásí někdo jiný, bude to zahozeno.",
    cover_link: "Otevřít přihlašovací stránku v nové kartě",
    idle_notice: "Byli jste odhlášeni po {d} nečinnosti.",
    absolute_notice: "Byli jste odhlášeni, protože relace dosáhla maximální délky.",
    invalid_notice: "Přihlaste se prosím znovu.",
    revoked_notice: "Vaše relace byla ukončena (odhlášení na tomto nebo jiném zařízení). Přihlaste se znovu.",
    reauthenticate_notice: "Pro pokračování se prosím znovu přihlaste: tato stránka vyžaduje nedávné přihlášení.",
    minutes_unit: "{n} min",
    seconds_unit: "{n} s",
};

static JA: Texts = Texts {
    tag: "ja",
    title: "まもなくセッションの有効期限が切れます",
    message: "サインインしたままにするには、いずれかのキーを押すか「サインインを続ける」を選んでください。",
    time_left: "残り時間:",
    seconds: &[("other", "{n} 秒")],
    stay: "サインインを続ける",
    sign_out: "今すぐサインアウト",
    unreached: "リクエストがサーバーに届きませんでした。再試行しています…",
    sign_out_failed: "サインアウトできませんでした。もう一度お試しください。",
    cover_title: "サインアウトされました",
    cover_message: "このページの入力内容は保持されています。別のタブで再度サインインしてから、ここに戻ってください。別の人がサインインした場合は破棄されます。",
    cover_link: "新しいタブでサインインページを開く",
    idle_notice: "{d}操作がなかったため、サインアウトしました。",
    absolute_notice: "セッションの有効期限に達したため、サインアウトしました。",
    invalid_notice: "もう一度サインインしてください。",
    revoked_notice: "セッションは終了しました（この端末または別の端末でサインアウト）。もう一度サインインしてください。",
    reauthenticate_notice: "続行するには、もう一度サインインしてください（このページには最近のサインインが必要です）。",
    minutes_unit: "{n}分",
    seconds_unit: "{n}秒",
};

/// The `language` setting: a tag such as `"fr"` or `"pt-BR"`.
impl<'de> serde::Deserialize<'de> for Language {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let tag = String::deserialize(deserializer)?;
        Language::from_tag(&tag).ok_or_else(|| {
            serde::de::Error::custom(format!("unknown language {tag:?}; expected one of {}", Language::tags()))
        })
    }
}

/// What the login page is told after an expiry (a flash message); composed
/// by `ExpiryReason::notice`.
pub(crate) struct ExpiryNotices {
    /// `{d}` is the idle time, e.g. "10 min".
    pub idle: &'static str,
    pub absolute: &'static str,
    pub invalid: &'static str,
    /// The session was revoked (signed out here or elsewhere, ended from a list or by an administrator).
    pub revoked: &'static str,
    /// Units of `{d}`: minutes, seconds.
    pub minutes: &'static str,
    pub seconds: &'static str,
}

impl Language {
    pub(crate) fn expiry_notices(self) -> ExpiryNotices {
        let t = self.texts();
        ExpiryNotices {
            idle: t.idle_notice,
            absolute: t.absolute_notice,
            invalid: t.invalid_notice,
            revoked: t.revoked_notice,
            minutes: t.minutes_unit,
            seconds: t.seconds_unit,
        }
    }

    /// What the login page says when a route asked for a more recent
    /// sign-in ([`RecentSignIn`](crate::RecentSignIn)).
    pub(crate) fn reauthenticate_notice(self) -> &'static str {
        self.texts().reauthenticate_notice
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_text_and_an_other_plural_form() {
        for &language in Language::ALL {
            let t = language.texts();
            assert_eq!(Language::from_tag(t.tag), Some(language));
            for text in [
                t.title,
                t.message,
                t.time_left,
                t.stay,
                t.sign_out,
                t.unreached,
                t.cover_title,
                t.cover_message,
                t.cover_link,
            ] {
                assert!(!text.trim().is_empty(), "{}", t.tag);
            }
            // The login page's notices, from the same table.
            for notice in [t.absolute_notice, t.invalid_notice, t.revoked_notice, t.reauthenticate_notice] {
                assert!(!notice.trim().is_empty(), "{}", t.tag);
            }
            assert!(t.idle_notice.contains("{d}"), "{}", t.tag);
            assert!(t.minutes_unit.contains("{n}") && t.seconds_unit.contains("{n}"), "{}", t.tag);
            assert!(t.seconds.iter().any(|(c, _)| *c == "other"), "{}", t.tag);
            assert!(t.seconds.iter().all(|(_, f)| f.contains("{n}")), "{}", t.tag);
            assert!(Language::tags().split(", ").any(|tag| tag == t.tag));
        }
        assert_ne!(EN.title, FR.title);
    }

    #[test]
    fn accept_language_picks_the_heaviest_known_tag() {
        assert_eq!(Language::negotiate(""), Language::English);
        assert_eq!(Language::negotiate("pt-BR,pt;q=0.9"), Language::Portuguese);
        assert_eq!(Language::negotiate("en;q=0.2, ja;q=0.9"), Language::Japanese);
        assert_eq!(Language::negotiate("cs;q=0, nl;q=0.1"), Language::Dutch);
        assert_eq!(Language::negotiate("de;q=2, it;q=abc"), Language::English);
        assert_eq!(Language::negotiate("*"), Language::English);
    }
}
