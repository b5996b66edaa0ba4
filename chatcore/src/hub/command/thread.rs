//! `thread`: a page of a root message's replies, with their current state.

use crate::Result;
use crate::hub::core::Core;
use crate::hub::session::state::SessionState;
use crate::protocol::{Event, RequestId};
use crate::store::HistoryQuery;

/// `thread`: the replies to `root` in a readable room, oldest first, after the cursor.
pub(crate) async fn thread_command(
    core: &Core,
    s: &SessionState,
    id: Option<RequestId>,
    room: String,
    root: u64,
    after: Option<u64>,
    limit: Option<u32>,
) -> Result<()> {
    super::query::readable(core, &room, Some(s.user())).await?;
    let query = HistoryQuery {
        after,
        before: None,
        limit: limit
            .unwrap_or(core.limits.history_on_join)
            .min(core.limits.max_history_page),
    };
    let page = core
        .store
        .thread(&room, root, query, Some(s.user()))
        .await?;
    s.queue.send(Event::Thread {
        id,
        room,
        root,
        messages: page.messages,
        has_more: page.has_more,
        current_to: page.current_to,
    });
    Ok(())
}
