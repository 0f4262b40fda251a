//! Which embedder serves which plugin's `embeddings` when the registry loads them: the one
//! chosen for the plugin, else the registry's default, never one picked silently.

use std::sync::{Arc, Mutex};

use flowtrace_plugins::manifest::PluginKind;
use flowtrace_plugins::registry::{
    EmbedderChoice, InstallRequest, LoadEnabledError, LoadedPlugin, Registry, RegistryError,
};
use flowtrace_plugins::{
    testing, CallObserver, CallRecord, Embedder, Evaluator, Fix, PreparedTrace, Runtime,
    RuntimeConfig, Services,
};

use crate::registry::{file_source, home, index_json, pid, with_manifest};

#[derive(Default)]
struct Embeds(Mutex<Vec<String>>);

impl CallObserver for Embeds {
    fn call_finished(&self, record: &CallRecord) {
        if record.function == "embed" {
            self.0.lock().unwrap().push(record.plugin.to_string());
        }
    }
}

impl Embeds {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn install(reg: &Registry, id: &str, guest: &str, world: &str, kind: &str, extra: &str) {
    let bytes = testing::componentize(
        &testing::guest_wat(guest),
        &format!("package test:guest; world w {{ {world} }}"),
    )
    .unwrap();
    let text = format!(
        "[plugin]\nid = \"{id}\"\nname = \"{id}\"\nversion = \"1.0.0\"\nkind = \"{kind}\"\n\n\
         [build]\nlanguage = \"rust\"\n\n{extra}\n"
    );
    reg.install(InstallRequest::new(
        with_manifest(&bytes, &text),
        file_source(id),
    ))
    .unwrap_or_else(|e| panic!("install {id}: {e}"));
}

fn install_embedder(reg: &Registry, id: &str) {
    let world = "export flowtrace:plugin/embedder@0.1.0;";
    install(reg, id, "embedder", world, "embedder", "");
}

fn install_user(reg: &Registry, id: &str) {
    let world =
        "import flowtrace:plugin/embeddings@0.1.0; export flowtrace:plugin/evaluator@0.1.0;";
    let extra = "[capabilities]\nembeddings = true";
    install(reg, id, "embeddings-user", world, "evaluator", extra);
}

/// Load every enabled plugin and evaluate the user with the one it loaded: the embedders
/// that served it, or why it did not load.
fn user_served(
    reg: &Registry,
    runtime: &Runtime,
    embeds: &Embeds,
    services: &Services,
) -> Result<Vec<String>, LoadEnabledError> {
    let loaded = reg.load_enabled(runtime, None, services).unwrap();
    let user = loaded
        .into_iter()
        .find(|l| l.id.as_str() == "user")
        .unwrap();
    let user = user.plugin?.as_evaluator().unwrap();
    embeds.take();
    let r = user
        .evaluate(&PreparedTrace::new(testing::trace_with_spans(0)))
        .unwrap();
    assert_eq!(r.score, 0.5);
    Ok(embeds.take())
}

#[test]
fn the_embedder_of_a_plugin_is_chosen_never_guessed() {
    let (_dir, reg) = home();
    let embeds = Arc::new(Embeds::default());
    let runtime = Runtime::with_config(RuntimeConfig {
        observer: Some(embeds.clone()),
        ..RuntimeConfig::default()
    })
    .unwrap();
    install_embedder(&reg, "emb-a");
    install_embedder(&reg, "emb-b");
    install_user(&reg, "user");
    let plain = "import flowtrace:plugin/log@0.1.0; export flowtrace:plugin/evaluator@0.1.0;";
    install(&reg, "plain", "behaviors", plain, "evaluator", "");
    let none = Services::default();

    // Nothing chosen: the user does not load (it used to get `emb-a`, the first one), and
    // the error says which embedders there are.
    let err = user_served(&reg, &runtime, &embeds, &none).unwrap_err();
    let LoadEnabledError::Registry(err) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        err.to_string(),
        "plugin `user` is granted `embeddings` but no embedder is chosen to serve it \
         (installed embedders: `emb-a`, `emb-b`)"
    );
    assert_eq!(
        err.fix(),
        Some(Fix::ChooseEmbedder {
            id: pid("user"),
            embedders: vec![pid("emb-a"), pid("emb-b")],
        })
    );
    assert_eq!(
        err.help().unwrap(),
        "choose the embedder that serves `user` (`emb-a`, `emb-b`), for it or as the \
         registry's default"
    );
    // Loading it alone is wired the same way.
    assert!(matches!(
        reg.load(&runtime, &pid("user"), &none),
        Err(LoadEnabledError::Registry(
            RegistryError::EmbedderNotChosen { .. }
        ))
    ));
    assert_eq!(
        reg.embedder_for(&pid("user")).unwrap(),
        EmbedderChoice::None
    );
    assert_eq!(
        reg.info(&pid("user")).unwrap().embedder,
        Some(EmbedderChoice::None)
    );
    assert_eq!(
        reg.info(&pid("plain")).unwrap().embedder,
        None,
        "not granted"
    );

    // The registry's default serves it.
    reg.set_embedder(None, Some(&pid("emb-b"))).unwrap();
    assert_eq!(
        user_served(&reg, &runtime, &embeds, &none).unwrap(),
        ["emb-b"]
    );
    let alone = reg.load(&runtime, &pid("user"), &none).unwrap();
    alone
        .evaluate(&PreparedTrace::new(testing::trace_with_spans(0)))
        .unwrap();
    assert_eq!(embeds.take(), ["emb-b"]);
    assert_eq!(
        reg.info(&pid("user")).unwrap().embedder,
        Some(EmbedderChoice::Default {
            embedder: pid("emb-b")
        })
    );
    assert_eq!(reg.info(&pid("emb-b")).unwrap().embeds_for, [pid("user")]);

    // One chosen for the plugin wins over the default.
    reg.set_embedder(Some(&pid("user")), Some(&pid("emb-a")))
        .unwrap();
    assert_eq!(
        user_served(&reg, &runtime, &embeds, &none).unwrap(),
        ["emb-a"]
    );
    assert_eq!(
        reg.embedder_for(&pid("user")).unwrap().to_string(),
        "`emb-a` (chosen for it)"
    );
    assert!(reg.info(&pid("emb-b")).unwrap().embeds_for.is_empty());
    let index = index_json(&reg);
    assert_eq!(index["embedder"], "emb-b");
    assert_eq!(index["plugins"]["user"]["embedder"], "emb-a");

    // A disabled embedder serves nobody: enabling it is the fix.
    reg.disable(&pid("emb-a"), false).unwrap();
    let err = user_served(&reg, &runtime, &embeds, &none).unwrap_err();
    let LoadEnabledError::Registry(err) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        err.to_string(),
        "embedder `emb-a` chosen for plugin `user` is disabled"
    );
    assert_eq!(err.fix(), Some(Fix::Enable { id: pid("emb-a") }));

    // The host's own provider serves every plugin instead.
    let host = reg
        .load(&runtime, &pid("emb-b"), &none)
        .unwrap()
        .as_embedder()
        .unwrap();
    let services = Services {
        embeddings: Some(Arc::new(host)),
        ..Services::default()
    };
    assert_eq!(
        user_served(&reg, &runtime, &embeds, &services).unwrap(),
        ["emb-b"]
    );

    // Only an installed embedder can be chosen.
    let err = reg
        .set_embedder(Some(&pid("user")), Some(&pid("plain")))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugin `plain` is an evaluator, not an embedder"
    );
    assert!(matches!(
        reg.set_embedder(None, Some(&pid("nope"))),
        Err(RegistryError::NotInstalled { .. })
    ));
    // Clearing the choice falls back to the default.
    reg.set_embedder(Some(&pid("user")), None).unwrap();
    assert_eq!(
        user_served(&reg, &runtime, &embeds, &none).unwrap(),
        ["emb-b"]
    );
}

#[test]
fn load_enabled_as_gives_typed_handles_of_one_kind() {
    let (_dir, reg) = home();
    let runtime = Runtime::new().unwrap();
    install_embedder(&reg, "emb");
    install_user(&reg, "user");
    let plain = "import flowtrace:plugin/log@0.1.0; export flowtrace:plugin/evaluator@0.1.0;";
    install(&reg, "plain", "behaviors", plain, "evaluator", "");
    reg.set_embedder(None, Some(&pid("emb"))).unwrap();

    let evaluators: Vec<LoadedPlugin<Evaluator>> = reg
        .load_enabled_as::<Evaluator>(&runtime, &Services::default())
        .unwrap();
    let ids: Vec<&str> = evaluators.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["plain", "user"]);
    let trace = PreparedTrace::new(testing::trace_with_spans(0));
    for loaded in &evaluators {
        assert_eq!(loaded.kind, PluginKind::Evaluator);
        let evaluator = loaded.plugin.as_ref().unwrap();
        assert!(evaluator.evaluate(&trace).unwrap().score > 0.0);
    }
    let embedders = reg
        .load_enabled_as::<Embedder>(&runtime, &Services::default())
        .unwrap();
    let ids: Vec<&str> = embedders.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["emb"]);
    assert_eq!(
        embedders[0].plugin.as_ref().unwrap().dimension().unwrap(),
        3
    );
}
