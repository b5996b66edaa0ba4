//! Notifications for mentions and direct messages: the terminal bell, or a desktop
//! notification with the `desktop-notify` feature (falling back to the bell).

use std::io::Write;

use crate::config::Notifications;

/// Notifies per `how`.
pub fn notify(how: Notifications, title: &str, body: &str) {
    match how {
        Notifications::Off => {}
        Notifications::Bell => bell(),
        Notifications::Desktop => {
            // Talking to the session bus can block: do it off the UI thread. A BEL written
            // from there is harmless even between escape sequences (terminals execute C0
            // controls inside them).
            let (title, body) = (title.to_owned(), body.to_owned());
            std::thread::spawn(move || {
                if !desktop(&title, &body) {
                    bell();
                }
            });
        }
    }
}

/// Rings the terminal bell (BEL); it is not drawn, so it does not disturb the screen.
fn bell() {
    let mut out = std::io::stdout();
    let _ = out.write_all(b"\x07");
    let _ = out.flush();
}

#[cfg(feature = "desktop-notify")]
fn desktop(title: &str, body: &str) -> bool {
    notify_rust::Notification::new()
        .summary(title)
        .body(body)
        .appname("chat-tui")
        .show()
        .is_ok()
}

#[cfg(not(feature = "desktop-notify"))]
fn desktop(_title: &str, _body: &str) -> bool {
    false
}
