//! Hash maps and sets for the compiler's own tables (names, lines, route
//! paths). A large project looks names up hundreds of thousands of times,
//! and std's SipHash was a visible part of checking it; foldhash is several
//! times faster on short keys. Like std's, each table is seeded at random:
//! a source is fixed before the process starts and cannot observe the
//! seeds, so it cannot be written to make lookups collide (foldhash's
//! "minimal DoS resistance", which is enough against input that does not
//! interact with the process).

pub type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub type Set<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
pub type IndexSet<K> = indexmap::IndexSet<K, foldhash::fast::RandomState>;
pub type IndexMap<K, V> = indexmap::IndexMap<K, V, foldhash::fast::RandomState>;

/// An empty map with room for `capacity` entries.
pub fn map_with_capacity<K, V>(capacity: usize) -> Map<K, V> {
    Map::with_capacity_and_hasher(capacity, Default::default())
}
