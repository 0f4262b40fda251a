//! Embeds the component type of each plugin world of `wit/` for the export macros, and
//! checks that every function of the shim interfaces (`shim/sdk.wit`, what the SDK's Rust
//! code is generated from) has the same type as its original in `wit/`.
//!
//! The plugin kinds are the worlds of `wit/` named `<kind>-plugin`: each needs an
//! interface `<kind>` in the shim, and gets a constant `<KIND>` (its component type) in
//! `component_types.rs`, which `src/lib.rs` includes for the `export_*!` macros.

use std::path::PathBuf;
use std::{env, fs};

use wit_component::StringEncoding;
use wit_parser::{Function, Handle, InterfaceId, Resolve, Type, TypeDefKind, WorldId};

/// The suffix of the name of a plugin kind's world in `wit/`.
const WORLD_SUFFIX: &str = "-plugin";

fn main() {
    println!("cargo:rerun-if-changed=wit");
    println!("cargo:rerun-if-changed=shim");
    if let Err(message) = run() {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let out = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let mut resolve = Resolve::default();
    let (contract, _) = resolve
        .push_dir(root.join("wit"))
        .map_err(|e| format!("failed to read `wit/`: {e:#}"))?;
    let shim = resolve
        .push_file(root.join("shim/sdk.wit"))
        .map_err(|e| format!("failed to read `shim/sdk.wit`: {e:#}"))?;

    // The export macros (src/kinds/) spell the exported names with this version.
    let name = &resolve.packages[contract].name;
    if name.to_string() != "flowtrace:plugin@0.1.0" {
        return Err(format!(
            "`wit/` is `{name}`, the export names in src/kinds/ are for `flowtrace:plugin@0.1.0`: update them"
        ));
    }

    let worlds: Vec<(String, WorldId)> = resolve.packages[contract]
        .worlds
        .iter()
        .filter_map(|(name, id)| Some((name.strip_suffix(WORLD_SUFFIX)?.to_string(), *id)))
        .collect();
    if worlds.is_empty() {
        return Err(format!("no world named `<kind>{WORLD_SUFFIX}` in `wit/`"));
    }
    let mut consts = String::new();
    for (kind, world) in worlds {
        let kind = kind.as_str();
        let real = interface(&resolve, contract, kind)?;
        let ours = interface(&resolve, shim, kind)
            .map_err(|e| format!("{e}: add the interface of kind `{kind}` to `shim/sdk.wit`"))?;
        check_interface(&resolve, kind, real, ours)?;

        let bytes =
            wit_component::metadata::encode(&resolve, world, StringEncoding::UTF8, None, false)
                .map_err(|e| format!("failed to encode world `{kind}-plugin`: {e:#}"))?;
        let file = out.join(format!("{kind}.component-type"));
        fs::write(&file, &bytes).map_err(|e| format!("failed to write `{file:?}`: {e}"))?;
        consts.push_str(&format!(
            "/// The component type of world `{kind}-plugin`.\n\
             pub const {}: [u8; {}] = *include_bytes!({:?});\n",
            kind.to_uppercase().replace('-', "_"),
            bytes.len(),
            file.display().to_string(),
        ));
    }
    let file = out.join("component_types.rs");
    fs::write(&file, consts).map_err(|e| format!("failed to write `{file:?}`: {e}"))
}

fn interface(
    resolve: &Resolve,
    package: wit_parser::PackageId,
    name: &str,
) -> Result<InterfaceId, String> {
    resolve.packages[package]
        .interfaces
        .get(name)
        .copied()
        .ok_or_else(|| {
            format!(
                "no interface `{name}` in `{}`",
                resolve.packages[package].name
            )
        })
}

fn check_interface(
    resolve: &Resolve,
    kind: &str,
    real: InterfaceId,
    ours: InterfaceId,
) -> Result<(), String> {
    let (real, ours) = (&resolve.interfaces[real], &resolve.interfaces[ours]);
    let names = |i: &wit_parser::Interface| i.functions.keys().cloned().collect::<Vec<_>>();
    if names(real) != names(ours) {
        return Err(format!(
            "`shim/sdk.wit` interface `{kind}` has functions {:?}, `wit/` has {:?}: update the shim",
            names(ours),
            names(real)
        ));
    }
    for (name, f) in &real.functions {
        if !same_function(resolve, f, &ours.functions[name]) {
            return Err(format!(
                "`shim/sdk.wit` function `{kind}.{name}` does not match `wit/`: update the shim"
            ));
        }
    }
    Ok(())
}

fn same_function(resolve: &Resolve, real: &Function, ours: &Function) -> bool {
    real.params.len() == ours.params.len()
        && real
            .params
            .iter()
            .zip(&ours.params)
            .all(|(a, b)| a.name == b.name && same(resolve, &a.ty, &b.ty))
        && same_opt(resolve, &real.result, &ours.result)
}

fn dealias(resolve: &Resolve, mut ty: Type) -> Type {
    while let Type::Id(id) = ty {
        match &resolve.types[id].kind {
            TypeDefKind::Type(inner) => ty = *inner,
            _ => break,
        }
    }
    ty
}

fn same_opt(resolve: &Resolve, a: &Option<Type>, b: &Option<Type>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => same(resolve, a, b),
        (None, None) => true,
        _ => false,
    }
}

/// Structural equality, except that the shim's `list<u32>` stands for `list<borrow<_>>`.
fn same(resolve: &Resolve, real: &Type, ours: &Type) -> bool {
    let (real, ours) = (dealias(resolve, *real), dealias(resolve, *ours));
    let (a, b) = match (real, ours) {
        (Type::Id(a), Type::Id(b)) if a == b => return true,
        (Type::Id(a), Type::Id(b)) => (&resolve.types[a].kind, &resolve.types[b].kind),
        (Type::Id(_), _) | (_, Type::Id(_)) => return false,
        (a, b) => return a == b,
    };
    match (a, b) {
        (TypeDefKind::List(a), TypeDefKind::List(b)) => {
            let borrow = matches!(dealias(resolve, *a), Type::Id(id)
                if matches!(resolve.types[id].kind, TypeDefKind::Handle(Handle::Borrow(_))));
            (borrow && *b == Type::U32) || same(resolve, a, b)
        }
        (TypeDefKind::Record(a), TypeDefKind::Record(b)) => {
            a.fields.len() == b.fields.len()
                && a.fields
                    .iter()
                    .zip(&b.fields)
                    .all(|(a, b)| a.name == b.name && same(resolve, &a.ty, &b.ty))
        }
        (TypeDefKind::Variant(a), TypeDefKind::Variant(b)) => {
            a.cases.len() == b.cases.len()
                && a.cases
                    .iter()
                    .zip(&b.cases)
                    .all(|(a, b)| a.name == b.name && same_opt(resolve, &a.ty, &b.ty))
        }
        (TypeDefKind::Enum(a), TypeDefKind::Enum(b)) => a
            .cases
            .iter()
            .map(|c| &c.name)
            .eq(b.cases.iter().map(|c| &c.name)),
        (TypeDefKind::Tuple(a), TypeDefKind::Tuple(b)) => {
            a.types.len() == b.types.len()
                && a.types
                    .iter()
                    .zip(&b.types)
                    .all(|(a, b)| same(resolve, a, b))
        }
        (TypeDefKind::Option(a), TypeDefKind::Option(b)) => same(resolve, a, b),
        (TypeDefKind::Result(a), TypeDefKind::Result(b)) => {
            same_opt(resolve, &a.ok, &b.ok) && same_opt(resolve, &a.err, &b.err)
        }
        (TypeDefKind::Handle(a), TypeDefKind::Handle(b)) => match (a, b) {
            (Handle::Own(a), Handle::Own(b)) | (Handle::Borrow(a), Handle::Borrow(b)) => {
                dealias(resolve, Type::Id(*a)) == dealias(resolve, Type::Id(*b))
            }
            _ => false,
        },
        _ => false,
    }
}
