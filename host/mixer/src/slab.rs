//! A vector of slots addressed by index and checked by generation: the storage behind the
//! mixer's participant and meeting ids.
//!
//! Owns: handing out `(index, generation)` pairs and refusing stale ones. A generation wraps
//! after 2³² reuses of one slot, after which a very old id could alias a new value.

/// A vector of slots addressed by index and checked by generation, so a stale id never
/// reaches the value that reused its slot.
#[derive(Debug)]
pub(crate) struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
}

#[derive(Debug)]
struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

impl<T> Slab<T> {
    pub(crate) fn with_capacity(n: usize) -> Slab<T> {
        Slab {
            slots: Vec::with_capacity(n),
            free: Vec::new(),
        }
    }

    /// Stores `value`; returns its index and generation, or `None` when 2³² − 1 slots are used.
    pub(crate) fn insert(&mut self, value: T) -> Option<(u32, u32)> {
        if let Some(index) = self.free.pop()
            && let Some(slot) = self.slots.get_mut(index as usize)
        {
            slot.value = Some(value);
            return Some((index, slot.generation));
        }
        let index = u32::try_from(self.slots.len())
            .ok()
            .filter(|i| *i < u32::MAX)?;
        self.slots.push(Slot {
            generation: 0,
            value: Some(value),
        });
        Some((index, 0))
    }

    pub(crate) fn remove(&mut self, index: u32, generation: u32) -> Option<T> {
        let slot = self.slots.get_mut(index as usize)?;
        if slot.generation != generation {
            return None;
        }
        let value = slot.value.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index);
        Some(value)
    }

    pub(crate) fn get(&self, index: u32, generation: u32) -> Option<&T> {
        self.entry(index)
            .filter(|(g, _)| *g == generation)
            .map(|(_, v)| v)
    }

    pub(crate) fn get_mut(&mut self, index: u32, generation: u32) -> Option<&mut T> {
        self.entry_mut(index)
            .filter(|(g, _)| *g == generation)
            .map(|(_, v)| v)
    }

    /// The live value at `index` with its generation.
    pub(crate) fn entry(&self, index: u32) -> Option<(u32, &T)> {
        let slot = self.slots.get(index as usize)?;
        slot.value.as_ref().map(|v| (slot.generation, v))
    }

    pub(crate) fn entry_mut(&mut self, index: u32) -> Option<(u32, &mut T)> {
        let slot = self.slots.get_mut(index as usize)?;
        slot.value.as_mut().map(|v| (slot.generation, v))
    }

    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.slots.iter_mut().filter_map(|s| s.value.as_mut())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code

    use super::*;

    #[test]
    fn slab_rejects_stale_generations() {
        let mut s = Slab::with_capacity(1);
        let (i, g) = s.insert('a').unwrap();
        assert_eq!(s.remove(i, g), Some('a'));
        let (j, h) = s.insert('b').unwrap();
        assert_eq!(i, j);
        assert_ne!(g, h);
        assert_eq!(s.get(i, g), None);
        assert_eq!(s.get(j, h), Some(&'b'));
        assert_eq!(s.remove(i, g), None);
    }
}
