//! Cross-portal tasks (R13–R17) between portals in this process, over real gRPC and
//! TLS on loopback, with an injected clock: the whole story, the checks of R14, a
//! portal without participants, joining and leaving, and a peer away for a day.

use portalnet_proto::v1 as pb;
use portalnet_tests::fed::{Fed, fed, replica_id, task_where, verify};
use portalnet_tests::refusal;
use tonic::Code;

const PORTALS: [&str; 3] = ["alpha.test", "beta.test", "gamma.test"];
const PEOPLE: [(&str, &str); 3] = [("anna", "Anna Nowak"), ("jan", "Jan Kowalski"), ("olga", "Olga Petrova")];

async fn three() -> Fed {
    fed(&PORTALS, &PEOPLE).await.unwrap()
}

fn create(title: &str, responsible: &str, observers: &[&str]) -> pb::CreateTaskRequest {
    pb::CreateTaskRequest {
        title: title.into(),
        responsible: responsible.into(),
        observers: observers.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

/// R16–R17: created on alpha with the responsible person on beta and an observer
/// on gamma; beta changes the status, gamma comments; all three converge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_story_converges() {
    let f = three().await;
    let (a, b, c) = (&f.members[0], &f.members[1], &f.members[2]);
    let task = a
        .user
        .tasks
        .clone()
        .create_task(create("Audit the Kraków office", "jan@beta.test", &["olga@gamma.test"]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(task.responsible, "jan@beta.test");
    assert_eq!(task.home, "", "homed here");

    let on_b = replica_id(&b.user, "alpha.test", task.id).await.unwrap();
    let t = b.user.tasks.clone().get_task(pb::GetTaskRequest { id: on_b }).await.unwrap().into_inner();
    assert_eq!((t.responsible.as_str(), t.creator.as_str()), ("jan", "anna@alpha.test"));
    assert_eq!(t.observers, vec!["olga@gamma.test"]);
    assert_eq!(t.home, "alpha.test");

    // The responsible person on beta starts the work (R17).
    let req = pb::SetStatusRequest { id: on_b, status: pb::TaskStatus::InProgress as i32 };
    let t = b.user.tasks.clone().set_status(req).await.unwrap().into_inner();
    assert_eq!(t.status, pb::TaskStatus::InProgress as i32, "applied by the home within the wait: {t:?}");
    assert!(t.pending.is_empty(), "{:?}", t.pending);

    // The observer on gamma comments.
    let on_c = replica_id(&c.user, "alpha.test", task.id).await.unwrap();
    let req = pb::AddCommentRequest { task_id: on_c, text: "Numbers attached tomorrow".into() };
    let comment = c.user.tasks.clone().add_comment(req).await.unwrap().into_inner();
    assert!(!comment.pending && comment.id > 0, "{comment:?}");
    assert_eq!(comment.author, "olga");

    // Everyone converges on version 3 and the same head hash.
    let want = |t: &pb::Task| {
        t.version == 3 && t.comment_count == 1 && t.status == pb::TaskStatus::InProgress as i32
    };
    task_where(&a.user, task.id, "alpha at v3", want).await.unwrap();
    task_where(&b.user, on_b, "beta at v3", want).await.unwrap();
    task_where(&c.user, on_c, "gamma at v3", want).await.unwrap();
    let comments = a
        .user
        .tasks
        .clone()
        .list_comments(pb::ListCommentsRequest { task_id: task.id })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(comments.comments[0].author, "olga@gamma.test");
    let heads: Vec<pb::VerifyHistoryResponse> = vec![
        verify(&a.user, task.id).await.unwrap(),
        verify(&b.user, on_b).await.unwrap(),
        verify(&c.user, on_c).await.unwrap(),
    ];
    for h in &heads {
        assert!(h.ok, "{h:?}");
        assert_eq!((h.events, h.home.as_str()), (3, "alpha.test"));
        assert_eq!(h.head_hash, heads[0].head_hash);
    }
    // The observer may not change the status: refused by its own portal at once.
    let req = pb::SetStatusRequest { id: on_c, status: pb::TaskStatus::Completed as i32 };
    let (code, msg) = refusal(c.user.tasks.clone().set_status(req).await);
    assert_eq!(code, Code::PermissionDenied, "{msg}");
}
