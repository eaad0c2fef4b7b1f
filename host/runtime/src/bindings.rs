//! wasmtime bindings of the contract: the shared interfaces once, each world on top of them,
//! and the conversions to and from `plenum-plugin-api`.

#![allow(missing_docs)]

/// Every shared interface (`types`, `host`, the four `*-types`), generated once.
pub mod shared {
    wasmtime::component::bindgen!({
        inline: "
            package plenum:runtime;
            world shared {
                import plenum:plugin/host@0.1.0;
                import plenum:plugin/normalizer-types@0.1.0;
                import plenum:plugin/policy-types@0.1.0;
                import plenum:plugin/focus-types@0.1.0;
                import plenum:plugin/attendant-types@0.1.0;
            }
        ",
        path: "../../wit",
    });
}

macro_rules! world {
    ($module:ident, $world:literal) => {
        #[doc = concat!("Bindings of world `", $world, "`.")]
        pub mod $module {
            wasmtime::component::bindgen!({
                world: $world,
                path: "../../wit",
                with: { "plenum:plugin": crate::bindings::shared::plenum::plugin },
            });
        }
    };
}

world!(normalizer, "plenum:plugin/normalizer@0.1.0");
world!(attendant, "plenum:plugin/attendant@0.1.0");
world!(meeting_policy, "plenum:plugin/meeting-policy@0.1.0");
world!(focus_factory, "plenum:plugin/focus-factory@0.1.0");

mod conversions {
    use super::shared::plenum::plugin as p;
    plenum_plugin_api::bind_conversions!(p);
}
