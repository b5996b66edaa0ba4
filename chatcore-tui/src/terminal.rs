//! Entering and leaving the full-screen terminal, on every exit path: a guard restores the
//! terminal when dropped (normal return, `?` error), and a panic hook restores it before the
//! panic message is printed.

use std::io::{self, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// The terminal type the client draws on.
pub type Tui = Terminal<CrosstermBackend<Stdout>>;

/// Whether the terminal is in the client's mode. Restoring twice would be harmful: leaving
/// the alternate screen again moves the cursor back over what was printed in between (the
/// panic message, when the hook restored before the guard's drop).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Puts the terminal back: raw mode off, main screen, mouse released, cursor shown. Does
/// nothing when already restored, so every exit path may call it.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let _ = disable_raw_mode();
    let mut out = io::stdout();
    let _ = execute!(
        out,
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = out.flush();
}

/// Installs a panic hook that restores the terminal, then runs the previous hook (which
/// prints the panic message on the now-normal screen).
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

/// Restores the terminal when dropped.
#[derive(Debug)]
pub struct Guard {
    /// The terminal to draw on.
    pub terminal: Tui,
}

impl Guard {
    /// Enters raw mode and the alternate screen, captures the mouse and bracketed paste.
    pub fn enter() -> io::Result<Guard> {
        install_panic_hook();
        ACTIVE.store(true, Ordering::SeqCst);
        if let Err(e) = enable_raw_mode() {
            restore();
            return Err(e);
        }
        let mut out = io::stdout();
        let entered = execute!(
            out,
            EnterAlternateScreen,
            EnableMouseCapture,
            EnableBracketedPaste
        )
        .and_then(|()| Terminal::new(CrosstermBackend::new(io::stdout())));
        match entered {
            Ok(terminal) => Ok(Guard { terminal }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}
