//! Replication messages ↔ what the portal applies, checked at the boundary.

use portalnet_core::task::TaskStatus;
use portalnet_core::{address, quote, validate};
use portalnet_federation::chain::hash_from_bytes;
use portalnet_portal::replica::InOp;
use portalnet_portal::{InEvent, InItem, InProposal, Outcome};
use portalnet_proto::v1::{self as pb, deliver_item::Kind, item_result, proposal::Op};
use portalnet_store::replication::{ProposalOp, ProposalRecord, StoredEvent};

/// Most items in one Deliver batch: what a sender puts in one and what a receiver
/// takes (more is refused whole, before the items are decoded).
pub const MAX_DELIVER_ITEMS: usize = 256;

/// A Deliver batch of several items, and a FetchEvents answer of several events,
/// stops growing past this many bytes; one larger item goes alone.
pub const BATCH_BYTES: usize = 4 * 1024 * 1024;

// A batch of several items must pass every receiver's envelope check.
const _: () = assert!(BATCH_BYTES <= portalnet_federation::MAX_PAYLOAD_LEN);

/// Most versions one FetchEvents call covers beyond its first (the home refuses a
/// wider range; a caller asks range by range).
pub const MAX_FETCH_SPAN: u64 = 10_000;

/// How many items an encoded `DeliverBatch` holds, counting at most to `max + 1`:
/// each item is skipped by its length, not decoded, so a payload of millions of
/// tiny items costs a scan, not millions of allocations. Err: not a `DeliverBatch`.
pub fn count_items(payload: &[u8], max: usize) -> Result<usize, prost::DecodeError> {
    use prost::encoding::{DecodeContext, WireType, decode_key, skip_field};
    let mut buf = payload;
    let mut n = 0;
    while !buf.is_empty() && n <= max {
        let (tag, wire) = decode_key(&mut buf)?;
        // Field 1, `repeated DeliverItem items`.
        if tag == 1 && wire == WireType::LengthDelimited {
            n += 1;
        }
        skip_field(wire, tag, &mut buf, DecodeContext::default())?;
    }
    Ok(n)
}

/// An event from the wire; anything malformed becomes a refusal of that item alone.
pub fn event_in(e: pb::Event) -> Result<InEvent, String> {
    let what = format!("event {} of task {}#{}", e.version, quote(&e.home), e.task);
    let prev_hash =
        hash_from_bytes(&e.prev_hash).ok_or_else(|| format!("{what}: prev_hash must be 32 bytes"))?;
    let hash = hash_from_bytes(&e.hash).ok_or_else(|| format!("{what}: hash must be 32 bytes"))?;
    if e.version == 0 || e.task == 0 {
        return Err(format!("{what}: task and version start at 1"));
    }
    // Exactly as the home names itself (the signature covers it); checked here so
    // that every later message can name it.
    if validate::portal_id(&e.home).ok().as_deref() != Some(e.home.as_str()) {
        return Err(format!("{what}: home must be a portal id such as `alpha.test`, in lowercase"));
    }
    Ok(InEvent {
        home: e.home,
        task: e.task,
        version: e.version,
        body: e.body,
        prev_hash,
        hash,
        signature: e.signature,
        file_content: e.file_content,
        catch_up: e.catch_up,
    })
}

pub fn item_in(item: pb::DeliverItem) -> InItem {
    match item.kind {
        None => InItem::Malformed("empty item: neither an event nor a proposal".into()),
        Some(Kind::Event(e)) => event_in(e).map_or_else(InItem::Malformed, InItem::Event),
        Some(Kind::Proposal(p)) => proposal_in(p).map_or_else(InItem::Malformed, InItem::Proposal),
    }
}

fn proposal_in(p: pb::Proposal) -> Result<InProposal, String> {
    let what = format!("proposal {:?}", quote(&p.id));
    if p.id.is_empty() || p.id.len() > 64 {
        return Err(format!("{what}: id must be 1-64 characters"));
    }
    let actor = address::participant("actor", &p.actor).map_err(|e| format!("{what}: {e}"))?;
    if !actor.contains('@') {
        return Err(format!("{what}: actor must be login@portal"));
    }
    let op = match p.op {
        None => return Err(format!("{what}: names no change")),
        Some(Op::Status(s)) => InOp::Status(
            TaskStatus::parse(&s.status)
                .ok_or_else(|| format!("{what}: unknown status {:?}", quote(&s.status)))?,
        ),
        Some(Op::Comment(c)) => InOp::Comment(c.text),
        Some(Op::File(f)) => InOp::File { name: f.name, content_type: f.content_type, content: f.content },
    };
    Ok(InProposal { id: p.id, task: p.task, actor, op })
}

pub fn event_out(e: &StoredEvent, file_content: Vec<u8>, catch_up: bool) -> pb::Event {
    pb::Event {
        home: e.home.clone(),
        task: e.task,
        version: e.version,
        body: e.body.as_bytes().to_vec(),
        prev_hash: hex::decode(&e.prev_hash).unwrap_or_default(),
        hash: hex::decode(&e.hash).unwrap_or_default(),
        signature: hex::decode(&e.signature).unwrap_or_default(),
        file_content,
        catch_up,
    }
}

pub fn proposal_out(p: &ProposalRecord, me: &str) -> Result<pb::Proposal, String> {
    let op = match &p.op {
        ProposalOp::Status { to } => Op::Status(pb::ProposeStatus { status: to.name().into() }),
        ProposalOp::Comment { text } => Op::Comment(pb::ProposeComment { text: text.clone() }),
        ProposalOp::File { name, content_type, content_b64, .. } => {
            use base64::Engine as _;
            let content = base64::engine::general_purpose::STANDARD
                .decode(content_b64)
                .map_err(|e| format!("stored proposal {} holds bad base64: {e}", p.id))?;
            Op::File(pb::ProposeFile { name: name.clone(), content_type: content_type.clone(), content })
        }
    };
    Ok(pb::Proposal {
        id: p.id.to_string(),
        task: p.home.task,
        actor: address::qualify(&p.actor, me),
        op: Some(op),
    })
}

pub fn outcome_out(o: &Outcome) -> pb::ItemResult {
    use item_result::Outcome as O;
    match o {
        Outcome::Applied { version } => {
            pb::ItemResult { outcome: O::Applied as i32, version: *version, ..Default::default() }
        }
        Outcome::Duplicate => pb::ItemResult { outcome: O::Duplicate as i32, ..Default::default() },
        Outcome::Rejected { reason, kind } => pb::ItemResult {
            outcome: O::Rejected as i32,
            reason: reason.clone(),
            code: crate::grpc::error::refusal_code(*kind) as i32,
            ..Default::default()
        },
    }
}

pub fn outcome_in(r: &pb::ItemResult) -> Outcome {
    use item_result::Outcome as O;
    match O::try_from(r.outcome) {
        Ok(O::Applied) => Outcome::Applied { version: r.version },
        Ok(O::Duplicate) => Outcome::Duplicate,
        _ => Outcome::Rejected {
            reason: if r.reason.is_empty() { "refused without a reason".into() } else { r.reason.clone() },
            kind: crate::grpc::error::refusal_of_code(r.code),
        },
    }
}
