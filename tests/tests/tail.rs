//! The live tail of an execution's stream (`app/src/api/tail.rs`) on every
//! backend: the first read follows from now (nothing older), a frame
//! appended through the trait after it comes back on the next read (a long
//! poll where the backend tails, a read elsewhere), once; a bad cursor is a
//! 400 and an unknown execution a 404.
use ff_board_tests::board::{form, Board};
use ff_board_tests::matrix;
use ff_board_tests::matrix::Store;
use ff_board_tests::seed::{execution_args, new_execution_id};
use ff_core::backend::{CapabilitySet, ClaimPolicy, Frame, FrameKind};
use ff_core::types::{LaneId, Namespace, TimestampMs, WorkerId, WorkerInstanceId};

fn tail(v: &str) -> serde_json::Value {
    serde_json::from_str(v).expect("a tail answer")
}

async fn tail_follows_new_frames(s: Store) {
    let c = s.connect().await;
    ff_board_engine::backend::declare_lanes(&c, &["tail-l"]).await.expect("declare lane");
    let lane = LaneId::new("tail-l");
    let id = new_execution_id(&c, None, &lane);
    c.backend.create_execution(execution_args(&id, &Namespace::new("tail"), &lane, "tail-step", "tail-test", TimestampMs::now())).await.expect("create");
    ff_board_engine::demo::promote_submitted(&c).await.expect("promote");
    let policy = ClaimPolicy::new(WorkerId::new("tail-w"), WorkerInstanceId::new("tail-w-1"), 60_000, None);
    let handle = c.backend.claim(&lane, &CapabilitySet::default(), policy).await.expect("claim").expect("claimable");
    c.backend.append_frame(&handle, Frame::new(b"before".to_vec(), FrameKind::Stdout)).await.expect("frame");
    let b = Board::start_quiet(&s.url, &c).await;
    let who = b.op("vera").await;
    let (st, first) = b.post("tail_frames", Some(&who.cookie), &form(&[("execution_id", id.as_str())])).await;
    assert_eq!(st, 200, "{first}");
    let first = tail(&first);
    assert_eq!(first["frames"].as_array().unwrap().len(), 0, "the tail starts at now: {first}");
    let (attempt, cursor) = (first["attempt"].as_u64().expect("an attempt"), first["cursor"].as_str().expect("a cursor").to_owned());
    // A frame appended while the browser waits (or between two reads).
    let append = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        c.backend.append_frame(&handle, Frame::new(b"after".to_vec(), FrameKind::Stdout)).await.expect("frame");
    };
    let read = async {
        if !c.backend.capabilities().supports.stream_best_effort_live {
            tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        }
        b.post("tail_frames", Some(&who.cookie), &form(&[("execution_id", id.as_str()), ("attempt", &attempt.to_string()), ("after", &cursor)])).await
    };
    let ((st, next), ()) = tokio::join!(read, append);
    assert_eq!(st, 200, "{next}");
    let next = tail(&next);
    let frames = next["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 1, "exactly the new frame: {next}");
    assert!(frames[0].to_string().contains("after"), "{next}");
    // Asked again after it: nothing twice.
    let cursor = next["cursor"].as_str().unwrap().to_owned();
    let (_, again) = b.post("tail_frames", Some(&who.cookie), &form(&[("execution_id", id.as_str()), ("attempt", &attempt.to_string()), ("after", &cursor)])).await;
    assert_eq!(tail(&again)["frames"].as_array().unwrap().len(), 0, "{again}");
    let (st, body) = b.post("tail_frames", Some(&who.cookie), &form(&[("execution_id", id.as_str()), ("attempt", "0"), ("after", "1' OR 1=1")])).await;
    assert_eq!(st, 400, "{body}");
    let other = new_execution_id(&c, None, &lane);
    let (st, body) = b.post("tail_frames", Some(&who.cookie), &form(&[("execution_id", other.as_str())])).await;
    assert_eq!(st, 404, "{body}");
}
matrix!(tail_follows_new_frames);
