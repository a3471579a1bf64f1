//! The demo app: `cargo run --example demo`, then open http://127.0.0.1:8000
//! and sign in with any user name and the password `demo`.

mod app;

#[rocket::launch]
fn rocket() -> _ {
    app::rocket()
}
