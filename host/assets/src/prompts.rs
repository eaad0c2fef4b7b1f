//! What a caller hears: a tenant's pack over the default catalogue.
//!
//! Owns: resolving `(tenant, language, name)` to audio: in each language of the fallback
//! order (see [`crate::lang`]), the tenant's pack first, then the catalogue; each distinct
//! fallback logged once per tenant. Does not own: loading packs or decoding clips.

use std::sync::Arc;

use plenum_types::TenantId;

use crate::catalog::{Catalog, Tone};
use crate::packs::PromptPacks;
use crate::resolve::{Lookup, Source, WarnOnce};

/// The default catalogue with the tenants' packs over it.
#[derive(Debug)]
pub struct Prompts {
    catalog: Catalog,
    packs: PromptPacks,
    warned: WarnOnce,
}

impl Prompts {
    /// `packs` over `catalog`.
    pub fn new(catalog: Catalog, packs: PromptPacks) -> Prompts {
        Prompts {
            catalog,
            packs,
            warned: WarnOnce::default(),
        }
    }

    /// The default catalogue.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The tenants' packs.
    pub fn packs(&self) -> &PromptPacks {
        &self.packs
    }

    /// The prompt `name` in `lang` for `tenant` (`None`: no tenant, the catalogue only). For
    /// each language of the fallback order, the tenant's pack first, then the catalogue: a
    /// tenant's German recording beats the catalogue's German, but the catalogue's German
    /// beats the tenant's English for a German caller. `None` only if no language has `name`.
    pub fn clip_for(
        &self,
        tenant: Option<&TenantId>,
        lang: &str,
        name: &str,
    ) -> Option<Arc<[i16]>> {
        self.lookup(tenant).clip(lang, name)
    }

    /// The clips that read `keys` (`0`–`9`, `*`, `#`) in `lang` for `tenant`.
    pub fn digits_for(&self, tenant: Option<&TenantId>, lang: &str, keys: &str) -> Vec<Arc<[i16]>> {
        self.lookup(tenant).digits(lang, keys)
    }

    /// The clips that say `n` in `lang` for `tenant` (digit by digit from 1000 up).
    pub fn number_for(&self, tenant: Option<&TenantId>, lang: &str, n: u32) -> Vec<Arc<[i16]>> {
        self.lookup(tenant).number(lang, n)
    }

    /// `tone` for `tenant`: its pack's own, else the catalogue's.
    pub fn tone_for(&self, tenant: Option<&TenantId>, tone: Tone) -> Arc<[i16]> {
        tenant
            .and_then(|t| self.packs.tone(t, tone))
            .unwrap_or_else(|| self.catalog.tone(tone))
    }

    /// The languages `tenant` has prompts in: the catalogue's and its pack's (sorted).
    pub fn languages_for(&self, tenant: Option<&TenantId>) -> Vec<&str> {
        let mut all = self.catalog.languages();
        if let Some(pack) = tenant.and_then(|t| self.packs.pack(t)) {
            all.extend(pack.languages());
        }
        all.sort_unstable();
        all.dedup();
        all
    }

    fn lookup<'a>(&'a self, tenant: Option<&'a TenantId>) -> Lookup<'a> {
        let pack = tenant.and_then(|t| self.packs.pack(t));
        Lookup {
            pack: pack.map(|p| p as &dyn Source),
            catalog: &self.catalog,
            tenant: tenant.map_or("-", TenantId::as_str),
            warned: &self.warned,
        }
    }
}
