//! The wit-bindgen bindings and the glue the export macros expand to (wasm32 only).
//!
//! The shared interfaces (`types`, `host`, the four `*-types`) are generated once in [`shared`]
//! and reused by each world's bindings, so one conversion table serves all four worlds.

/// Every shared interface, generated once.
pub mod shared {
    wit_bindgen::generate!({
        inline: "
            package plenum:sdk;
            world shared {
                import plenum:plugin/host@0.1.0;
                import plenum:plugin/normalizer-types@0.1.0;
                import plenum:plugin/policy-types@0.1.0;
                import plenum:plugin/focus-types@0.1.0;
                import plenum:plugin/attendant-types@0.1.0;
            }
        ",
        path: "../wit",
        generate_all,
        generate_unused_types: true,
        runtime_path: "::plenum_sdk::wasm::rt",
    });
}

#[doc(hidden)]
pub use wit_bindgen::rt;

macro_rules! world {
    ($module:ident, $world:literal, $macro:literal, $path:literal, [$($iface:literal => $shared:ident),*]) => {
        #[doc = concat!("Bindings of world `", $world, "`.")]
        pub mod $module {
            wit_bindgen::generate!({
                world: $world,
                path: "../wit",
                with: {
                    "plenum:plugin/types@0.1.0": crate::wasm::shared::plenum::plugin::types,
                    "plenum:plugin/host@0.1.0": crate::wasm::shared::plenum::plugin::host,
                    $($iface: crate::wasm::shared::plenum::plugin::$shared,)*
                },
                pub_export_macro: true,
                export_macro_name: $macro,
                default_bindings_module: $path,
                runtime_path: "::plenum_sdk::wasm::rt",
            });
        }
    };
}

world!(normalizer, "plenum:plugin/normalizer@0.1.0", "__export_normalizer",
    "plenum_sdk::wasm::normalizer",
    ["plenum:plugin/normalizer-types@0.1.0" => normalizer_types]);
world!(attendant, "plenum:plugin/attendant@0.1.0", "__export_attendant",
    "plenum_sdk::wasm::attendant",
    ["plenum:plugin/attendant-types@0.1.0" => attendant_types,
     "plenum:plugin/policy-types@0.1.0" => policy_types]);
world!(meeting_policy, "plenum:plugin/meeting-policy@0.1.0", "__export_meeting_policy",
    "plenum_sdk::wasm::meeting_policy",
    ["plenum:plugin/policy-types@0.1.0" => policy_types]);
world!(focus_factory, "plenum:plugin/focus-factory@0.1.0", "__export_focus_factory",
    "plenum_sdk::wasm::focus_factory",
    ["plenum:plugin/focus-types@0.1.0" => focus_types,
     "plenum:plugin/policy-types@0.1.0" => policy_types]);

mod conversions {
    use crate::wasm::shared::plenum::plugin as p;
    plenum_plugin_api::bind_conversions!(p);
}

/// What the export macros call.
pub mod glue {
    /// Convert between the SDK's types and the generated ones.
    pub fn conv<A: plenum_plugin_api::Conv<B>, B>(a: A) -> B {
        a.conv()
    }
}
