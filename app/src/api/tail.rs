//! The live tail of an execution's stream: the frames after a cursor on
//! its current attempt. Where the backend tails (`tail_stream`, gated by
//! `stream_best_effort_live`) the call waits up to [`TAIL_BLOCK_MS`] for a
//! new frame (a long poll; at most [`MAX_TAILS`] at once per board, the
//! rest answered at once from `read_stream`); elsewhere it reads what is
//! there and the browser asks again after a pause. Every answer is at most
//! [`TAIL_FRAMES`] frames. The first read follows from now; a new attempt
//! is followed from its first frame.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::executions::FrameView;
use crate::error::AppError;

/// One answer of the tail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tail {
    /// New frames, oldest first.
    pub frames: Vec<FrameView>,
    /// The cursor to ask after next (the last frame's id).
    pub cursor: Option<String>,
    /// The attempt tailed (none before the first claim).
    pub attempt: Option<u32>,
    /// The server waited for frames (the browser may ask again at once).
    pub waited: bool,
}

/// Frames one answer carries at most.
pub const TAIL_FRAMES: u64 = 100;
/// Longest wait for a new frame.
pub const TAIL_BLOCK_MS: u64 = 4_000;
/// Tails waiting at once per board process.
pub const MAX_TAILS: usize = 32;
/// Longest cursor taken (`<ms>-<seq>`).
#[cfg(feature = "ssr")]
const MAX_CURSOR: usize = 48;

#[server(prefix = "/api", endpoint = "tail_frames", output = crate::api::codec::PostcardAnswer)]
pub async fn tail_frames(execution_id: String, #[server(default)] attempt: Option<u32>, #[server(default)] after: Option<String>) -> Result<Tail, AppError> {
    use crate::api::read::Call;
    use ff_core::contracts::StreamCursor;
    use ff_core::types::AttemptIndex;
    let id = super::parse::execution_id(&execution_id)?;
    let after = after.filter(|a| !a.is_empty());
    if after.as_ref().is_some_and(|a| a.len() > MAX_CURSOR || !a.chars().all(|c| c.is_ascii_digit() || c == '-')) {
        return Err(AppError::BadRequest(format!("a stream cursor is at most {MAX_CURSOR} digits and dashes (<ms>-<seq>)")));
    }
    super::read::read(|c| async move {
        let b = &c.backend;
        let s = b.describe_execution(&id).timed("describe_execution").await?.ok_or_else(|| AppError::not_found("execution", execution_id))?;
        let current = match s.current_attempt.as_ref() {
            Some(a) => Some(a.attempt_index),
            None => b.read_current_attempt_index(&id).timed("read_current_attempt_index").await.ok(),
        };
        let Some(ai) = current else { return Ok(Tail { frames: vec![], cursor: None, attempt: None, waited: false }) };
        // The first read follows from now (stream ids are `<ms>-<seq>` on
        // every backend); a new attempt since the last read, from its first frame.
        let after = match attempt {
            None => Some(format!("{}-0", ff_board_engine::backend::now_ms())),
            Some(a) if a == ai.0 => after,
            Some(_) => None,
        };
        let block = TAIL_BLOCK_MS.min(ff_board_engine::backend::deadline_setting().as_millis() as u64 / 2);
        let permit = if b.capabilities().supports.stream_best_effort_live { slots().try_acquire().ok() } else { None };
        let (frames, waited) = match permit {
            Some(_held) => {
                let from = after.clone().map_or_else(StreamCursor::from_beginning, StreamCursor::At);
                let f = b.tail_stream(&id, AttemptIndex::new(ai.0), from, block, TAIL_FRAMES, Default::default()).timed("tail_stream").await?;
                (f.frames, true)
            }
            None => {
                let from = after.clone().map_or(StreamCursor::Start, StreamCursor::At);
                let f = b.read_stream(&id, AttemptIndex::new(ai.0), from, StreamCursor::End, TAIL_FRAMES + 1).timed("read_stream").await?;
                // `read_stream` starts at its cursor; the tail starts after it.
                (f.frames.into_iter().filter(|fr| Some(&fr.id) != after.as_ref()).take(TAIL_FRAMES as usize).collect(), false)
            }
        };
        let frames: Vec<FrameView> = frames.into_iter().map(|fr| FrameView { id: fr.id, fields: fr.fields.into_iter().collect() }).collect();
        let cursor = frames.last().map(|f| f.id.clone()).or(after);
        Ok(Tail { frames, cursor, attempt: Some(ai.0), waited })
    })
    .await
}

/// The board's tail slots.
#[cfg(feature = "ssr")]
fn slots() -> &'static tokio::sync::Semaphore {
    static S: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    S.get_or_init(|| tokio::sync::Semaphore::new(MAX_TAILS))
}
