//! Request bodies, read within two limits: each at most `limits.max_body_bytes`, and
//! all of them at once at most `limits.max_buffered_body_bytes`. Each request takes
//! its share of that budget (its declared length, else the per-request limit)
//! before reading, and gives it back when done; with none left it is answered at
//! once instead of waiting. So however many connections and HTTP/2 streams send
//! slowly together, the bodies held in memory stay within the configured bound.

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::HeaderMap;
use hyper::body::Incoming;
use hyper::header::CONTENT_LENGTH;

use super::State;
use crate::query::api::Answer;

pub(super) enum BodyError {
    /// Larger than the limit it was read under.
    TooLarge(usize),
    /// The client stopped or sent something that is no body.
    Unreadable,
    /// The budget for bodies in memory is used up by requests still arriving.
    Busy,
}

/// Reads a body of at most `max` bytes, holding its share of the budget meanwhile.
pub(super) async fn read(
    state: &State,
    headers: &HeaderMap,
    body: Incoming,
    max: usize,
) -> Result<Bytes, BodyError> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(BodyError::TooLarge(max));
    }
    let share = u32::try_from(declared.unwrap_or(max).clamp(1, max)).unwrap_or(u32::MAX);
    let Ok(_share) = state.body_budget.clone().try_acquire_many_owned(share) else {
        return Err(BodyError::Busy);
    };
    match Limited::new(body, max).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge(max)),
        Err(_) => Err(BodyError::Unreadable),
    }
}

/// The Stats API's answer to a body it could not read.
pub(super) fn api_answer(e: &BodyError, max: usize) -> Answer {
    match e {
        BodyError::Busy => Answer {
            status: 503,
            body: r#"{"error":"The collector is busy receiving other requests; retry shortly."}"#
                .to_owned(),
        },
        _ => Answer {
            status: 400,
            body: format!(
                r#"{{"error":"Invalid request body: larger than {max} bytes or unreadable."}}"#
            ),
        },
    }
}
