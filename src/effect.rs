//! What a response does for its session, decided once from the request's
//! record and a few facts about the response: a pure function, so every
//! case is a row of a table test. The fairing gathers the facts and applies
//! the effect.

use crate::binding::ct_eq;
use crate::context::{Action, Decided, SessionEvent};
use crate::stamp::{LoginTag, PersonTag, Stamp};
use crate::timing::Timeouts;
use crate::verdict::{Login, Verdict};

/// What the request's record says, as plain values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Record {
    pub action: Action,
    pub decided: Decided,
    pub login: Login,
    /// When the request arrived: the time of its activity.
    pub arrived_at: i64,
    /// The ping's merge of the browser's idle time.
    pub merged_activity: Option<i64>,
    /// A closing tab's ping (`end_with_last_tab`): last activity moves back
    /// to this, so that the session ends after the grace.
    pub closing_at: Option<i64>,
    /// A guard let the request through to private data.
    pub protected: bool,
    /// A guard of the crate refused the request: whatever answered it
    /// (the crate's catcher, the app's), it is not the person's activity.
    pub refused: bool,
    /// The app names its `login_cookies`: people can be told apart.
    pub login_cookies_configured: bool,
}

/// The login cookies as the response leaves them in the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct LoginLeft {
    /// At least one of them is there.
    pub present: bool,
    pub person_tag: PersonTag,
    pub login_tag: LoginTag,
}

/// What the fairing read off the response (only what the record asks for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ResponseFacts {
    /// The request is the person's own activity (a route answered it under
    /// 400; not passive, not a prefetch, not from another site).
    pub is_activity: bool,
    /// The login cookies as left by the response: always read for a
    /// sign-in; for an active session only when the response sets one.
    pub login_left: Option<LoginLeft>,
    /// The response has its own `Cache-Control`.
    pub has_cache_control: bool,
}

/// The stamp cookie's fate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StampEffect {
    /// Nothing to write: the browser's stamp stays as it is.
    Keep,
    Write(Stamp),
    /// Remove the stamp and the login cookies the response does not set.
    RemoveAll,
}

/// What the sessions list learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListEffect {
    None,
    /// A sign-in's entry (a renewal rewrites it).
    Started(Stamp),
    /// An active session's last activity, once a minute per session.
    Seen {
        session_id: u64,
        at: i64,
        until: i64,
    },
}

/// Everything the response does for the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Effect {
    pub stamp: StampEffect,
    /// Someone else signed in here: this session of theirs is over.
    pub ends: Option<Stamp>,
    pub list: ListEffect,
    pub event: Option<SessionEvent>,
    pub no_store: bool,
}

impl Effect {
    fn stamp(stamp: StampEffect) -> Effect {
        Effect { stamp, ends: None, list: ListEffect::None, event: None, no_store: false }
    }
}

/// Decides the response's effect. `fresh_id` is the id a new session gets.
pub(crate) fn decide(record: &Record, facts: &ResponseFacts, fresh_id: u64) -> Effect {
    let mut effect = match record.action {
        Action::SignIn { at, timeouts } => sign_in(record, facts, at, timeouts, fresh_id),
        Action::SignOut => Effect { event: Some(SessionEvent::SignedOut), ..Effect::stamp(StampEffect::RemoveAll) },
        Action::None => match record.decided.verdict {
            Verdict::Expired(_) => Effect::stamp(StampEffect::RemoveAll),
            // A stamp without login cookies (a link from another site) is kept for the next request.
            Verdict::Anonymous => Effect::stamp(StampEffect::Keep),
            Verdict::Active { stamp, .. } => active(record, facts, stamp),
        },
    };
    // Either way the answer is about a session: never cached.
    effect.no_store = (record.protected || record.refused) && !facts.has_cache_control;
    effect
}

fn sign_in(record: &Record, facts: &ResponseFacts, at: i64, timeouts: Timeouts, fresh_id: u64) -> Effect {
    let left = facts.login_left.unwrap_or_default();
    // Without login cookies nobody can be told apart: every sign-in is a new session.
    let current = match record.decided.verdict {
        Verdict::Active { stamp, .. } if record.login_cookies_configured => Some(stamp),
        _ => None,
    };
    let renewed = current.filter(|c| ct_eq(&c.person_tag, &left.person_tag));
    let stamp = Stamp {
        signed_in_at: at,
        last_activity: at,
        login_tag: left.login_tag,
        person_tag: left.person_tag,
        session_id: renewed.map_or(fresh_id, |c| c.session_id),
        timeouts,
    };
    Effect {
        stamp: StampEffect::Write(stamp),
        ends: current.filter(|_| renewed.is_none()),
        list: ListEffect::Started(stamp),
        event: Some(if renewed.is_some() { SessionEvent::Reauthenticated } else { SessionEvent::SignedIn }),
        no_store: false,
    }
}

/// An active session's next stamp: this request's activity (or the ping's
/// merge), and a new login tag when the app re-issued its login cookie for
/// the same person.
fn active(record: &Record, facts: &ResponseFacts, stamp: Stamp) -> Effect {
    let mut next = stamp;
    if let Login::Rebound(tag) = record.login {
        next.login_tag = tag;
    }
    // Someone else's cookie without `sign_in()` is left unbound: the next request expires.
    if let Some(left) = facts.login_left.filter(|l| l.present && ct_eq(&l.person_tag, &stamp.person_tag)) {
        next.login_tag = left.login_tag;
    }
    let own_activity = facts.is_activity && !record.refused;
    let activity = record.merged_activity.or_else(|| own_activity.then_some(record.arrived_at));
    // Whole seconds: the time moves only forward, but for a closing tab, only back.
    if let Some(at) = activity.filter(|&at| at > stamp.last_activity) {
        next.last_activity = at;
    }
    if let Some(at) = record.closing_at.filter(|&at| at < stamp.last_activity) {
        next.last_activity = at;
    }
    let list = if next.last_activity / 60 != stamp.last_activity / 60 {
        let until = next.last_activity + i64::from(record.decided.timeouts.expire_after);
        ListEffect::Seen { session_id: stamp.session_id, at: next.last_activity, until }
    } else {
        ListEffect::None
    };
    let write = if next == stamp { StampEffect::Keep } else { StampEffect::Write(next) };
    Effect { list, ..Effect::stamp(write) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::ExpiryReason;

    const T: i64 = 1_800_000_000;
    const TIMEOUTS: Timeouts = Timeouts { warn_after: 5, expire_after: 10, absolute_timeout: 100 };
    const ALICE: PersonTag = [1; 8];
    const BOB: PersonTag = [2; 8];

    fn stamp(person: PersonTag, last_activity: i64) -> Stamp {
        Stamp {
            signed_in_at: T - 50,
            last_activity,
            login_tag: [7; 8],
            person_tag: person,
            session_id: 41,
            timeouts: TIMEOUTS,
        }
    }

    fn record(action: Action, verdict: Verdict) -> Record {
        Record {
            action,
            decided: Decided { verdict, timeouts: TIMEOUTS },
            login: Login::Bound,
            arrived_at: T,
            merged_activity: None,
            closing_at: None,
            protected: false,
            refused: false,
            login_cookies_configured: true,
        }
    }

    fn active(person: PersonTag, last_activity: i64) -> Verdict {
        Verdict::Active { stamp: stamp(person, last_activity), idle: (T - last_activity) as u32 }
    }

    fn left(person: PersonTag, tag: u8) -> Option<LoginLeft> {
        Some(LoginLeft { present: true, person_tag: person, login_tag: [tag; 8] })
    }

    fn moved(to: i64, login_tag: u8) -> StampEffect {
        StampEffect::Write(Stamp { last_activity: to, login_tag: [login_tag; 8], ..stamp(ALICE, T - 3) })
    }

    const SIGN_IN: Action = Action::SignIn { at: T, timeouts: TIMEOUTS };

    #[test]
    fn every_record_has_one_effect_on_the_stamp() {
        let activity = ResponseFacts { is_activity: true, ..ResponseFacts::default() };
        let nothing = ResponseFacts::default();
        #[rustfmt::skip]
        let rows: Vec<(&str, Record, ResponseFacts, StampEffect)> = vec![
            ("sign-out", record(Action::SignOut, active(ALICE, T - 3)), activity, StampEffect::RemoveAll),
            ("expired", record(Action::None, Verdict::Expired(ExpiryReason::Idle)), activity, StampEffect::RemoveAll),
            ("anonymous keeps a stray stamp", record(Action::None, Verdict::Anonymous), activity, StampEffect::Keep),
            ("activity moves it", record(Action::None, active(ALICE, T - 3)), activity, moved(T, 7)),
            ("passive: nothing", record(Action::None, active(ALICE, T - 3)), nothing, StampEffect::Keep),
            ("same second: nothing", record(Action::None, active(ALICE, T)), activity, StampEffect::Keep),
            ("refused: not activity", Record { refused: true, ..record(Action::None, active(ALICE, T - 3)) }, activity, StampEffect::Keep),
            ("the ping's merge", Record { merged_activity: Some(T - 1), ..record(Action::None, active(ALICE, T - 3)) }, nothing, moved(T - 1, 7)),
            ("a merge never moves it back", Record { merged_activity: Some(T - 4), ..record(Action::None, active(ALICE, T - 3)) }, activity, StampEffect::Keep),
            ("a closing tab moves it back", Record { closing_at: Some(T - 8), ..record(Action::None, active(ALICE, T - 3)) }, nothing, moved(T - 8, 7)),
            ("a closing tab never moves it on", Record { closing_at: Some(T - 2), ..record(Action::None, active(ALICE, T - 3)) }, nothing, StampEffect::Keep),
            ("rebound login tag", Record { login: Login::Rebound([9; 8]), ..record(Action::None, active(ALICE, T - 3)) }, nothing, moved(T - 3, 9)),
            ("re-issued for the person", record(Action::None, active(ALICE, T - 3)), ResponseFacts { login_left: left(ALICE, 8), ..activity }, moved(T, 8)),
            ("someone else's cookie stays unbound", record(Action::None, active(ALICE, T - 3)), ResponseFacts { login_left: left(BOB, 8), ..activity }, moved(T, 7)),
        ];
        for (name, record, facts, expected) in rows {
            assert_eq!(decide(&record, &facts, 99).stamp, expected, "{name}");
        }
    }

    #[test]
    fn a_sign_in_starts_renews_or_replaces_a_session() {
        let facts = |person| ResponseFacts { login_left: left(person, 5), ..ResponseFacts::default() };
        let new_stamp = |person, id| Stamp {
            signed_in_at: T,
            last_activity: T,
            login_tag: [5; 8],
            person_tag: person,
            session_id: id,
            timeouts: TIMEOUTS,
        };
        #[rustfmt::skip]
        let rows = [
            ("nobody signed in", record(SIGN_IN, Verdict::Anonymous), ALICE, 99, None, SessionEvent::SignedIn),
            ("after an expiry", record(SIGN_IN, Verdict::Expired(ExpiryReason::Idle)), ALICE, 99, None, SessionEvent::SignedIn),
            ("the same person renews", record(SIGN_IN, active(ALICE, T - 3)), ALICE, 41, None, SessionEvent::Reauthenticated),
            ("someone else replaces", record(SIGN_IN, active(ALICE, T - 3)), BOB, 99, Some(stamp(ALICE, T - 3)), SessionEvent::SignedIn),
            ("nobody told apart", Record { login_cookies_configured: false, ..record(SIGN_IN, active(ALICE, T - 3)) }, ALICE, 99, None, SessionEvent::SignedIn),
        ];
        for (name, record, person, id, ends, event) in rows {
            let effect = decide(&record, &facts(person), 99);
            let expected = new_stamp(person, id);
            assert_eq!(effect.stamp, StampEffect::Write(expected), "{name}");
            assert_eq!(effect.list, ListEffect::Started(expected), "{name}");
            assert_eq!((effect.ends, effect.event), (ends, Some(event)), "{name}");
        }
    }

    #[test]
    fn the_sessions_list_hears_of_activity_once_a_minute_and_sign_outs_are_audited() {
        let activity = ResponseFacts { is_activity: true, ..ResponseFacts::default() };
        let at = T - T % 60 + 60;
        let crossing = Record { arrived_at: at, ..record(Action::None, active(ALICE, at - 1)) };
        let seen = ListEffect::Seen { session_id: 41, at, until: at + 10 };
        assert_eq!(decide(&crossing, &activity, 0).list, seen);
        let within = Record { arrived_at: at + 30, ..record(Action::None, active(ALICE, at + 29)) };
        assert_eq!(decide(&within, &activity, 0).list, ListEffect::None);
        let sign_out = decide(&record(Action::SignOut, active(ALICE, T - 3)), &activity, 0);
        assert_eq!(
            (sign_out.event, sign_out.list, sign_out.ends),
            (Some(SessionEvent::SignedOut), ListEffect::None, None)
        );
    }

    #[test]
    fn answers_about_a_session_are_never_cached_unless_the_app_chose() {
        let base = record(Action::None, active(ALICE, T - 3));
        let cached = ResponseFacts { has_cache_control: true, ..ResponseFacts::default() };
        for (protected, refused, facts, no_store) in [
            (false, false, ResponseFacts::default(), false),
            (true, false, ResponseFacts::default(), true),
            (false, true, ResponseFacts::default(), true),
            (true, false, cached, false),
        ] {
            let effect = decide(&Record { protected, refused, ..base }, &facts, 0);
            assert_eq!(effect.no_store, no_store, "protected {protected}, refused {refused}, {facts:?}");
        }
    }
}
