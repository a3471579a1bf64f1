//! The small JSON answers of the crate: the ping, and the 401 of a fetch
//! whose session is gone. Never cached.

use std::io::Cursor;

use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::serde::json::{serde_json, Value};

/// `Cache-Control: no-store`: an answer about a session must never be replayed from a cache.
pub(crate) fn no_store() -> Header<'static> {
    Header::new("Cache-Control", "no-store")
}

/// A JSON body with a status, sent with `Cache-Control: no-store`.
#[derive(Debug)]
pub(crate) struct JsonAnswer {
    pub status: Status,
    pub body: Value,
}

impl JsonAnswer {
    pub fn new(status: Status, body: Value) -> Self {
        JsonAnswer { status, body }
    }

    /// Writes status, type, caching and body into an existing response.
    pub fn apply_to(self, res: &mut Response<'_>) {
        let body = serde_json::to_string(&self.body).unwrap_or_default();
        res.set_status(self.status);
        res.set_header(ContentType::JSON);
        res.set_header(no_store());
        res.remove_header("Location");
        res.set_sized_body(body.len(), Cursor::new(body));
    }
}

impl<'r> Responder<'r, 'static> for JsonAnswer {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let mut res = Response::new();
        self.apply_to(&mut res);
        Ok(res)
    }
}
