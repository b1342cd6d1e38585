//! Compiles `proto/` with protox (pure Rust), so no system `protoc` is needed.
use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Read at run time: a build script compiled in another checkout must not point
    // back at that checkout's protos.
    let root = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let files: Vec<_> = std::fs::read_dir(root.join("portalnet/v1"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "proto"))
        .collect();
    // The folder too, so that a new .proto file is noticed.
    println!("cargo:rerun-if-changed={}", root.join("portalnet/v1").display());
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let fds = protox::compile(&files, [&root])?;
    // The descriptor set feeds gRPC server reflection.
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("portalnet_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}
