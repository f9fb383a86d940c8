//! The collector on its own: objects built by hand, roots given directly.

use std::collections::HashMap;
use std::sync::Arc;

use super::heap::{GcHeap, MIN_BUDGET};
use super::layout::GRANULE;
use super::*;
use crate::values::{ArrayType, CompositeType, FieldType, StorageType, StructType, ValType};

/// Store type ids of the test types.
const PAIR: u32 = 1; // struct { i64, externref }: a list cell
const BYTES: u32 = 2; // array i8
const REFS: u32 = 3; // array externref

struct TestLayouts(HashMap<u32, ObjectLayout>);

impl Layouts for TestLayouts {
    fn layout(&self, type_id: u32) -> Option<&ObjectLayout> {
        self.0.get(&type_id)
    }
}

fn field(storage: StorageType) -> FieldType {
    FieldType {
        storage,
        mutable: true,
    }
}

fn layouts() -> TestLayouts {
    let pair = CompositeType::Struct(Arc::new(StructType {
        fields: Box::new([
            field(StorageType::Val(ValType::I64)),
            field(StorageType::Val(ValType::EXTERNREF)),
        ]),
    }));
    let bytes = CompositeType::Array(ArrayType {
        element: field(StorageType::I8),
    });
    let refs = CompositeType::Array(ArrayType {
        element: field(StorageType::Val(ValType::EXTERNREF)),
    });
    TestLayouts(HashMap::from([
        (PAIR, ObjectLayout::of(&pair).unwrap()),
        (BYTES, ObjectLayout::of(&bytes).unwrap()),
        (REFS, ObjectLayout::of(&refs).unwrap()),
    ]))
}

struct Fixture {
    heap: GcHeap,
    layouts: TestLayouts,
}

impl Fixture {
    fn new(max_bytes: u64) -> Fixture {
        Fixture {
            heap: GcHeap::new(max_bytes, false).unwrap(),
            layouts: layouts(),
        }
    }

    fn alloc(&mut self, type_id: u32, len: u32) -> Option<u32> {
        let size = self.layouts.0[&type_id].object_size(len)?;
        self.heap.alloc(type_id, len, size)
    }

    /// A list cell holding `value` and `next`.
    fn cons(&mut self, value: i64, next: u64) -> u32 {
        let cell = self.alloc(PAIR, 0).unwrap();
        self.write(cell + 8, value as u64);
        self.write(cell + 16, next);
        cell
    }

    fn write(&mut self, at: u32, value: u64) {
        let access = super::layout::Access::B64;
        self.heap.write(at.into(), access, value.into()).unwrap();
    }

    fn read(&self, at: u32) -> u64 {
        self.heap
            .read(at.into(), super::layout::Access::B64)
            .unwrap() as u64
    }

    fn collect(&mut self, roots: &[u64]) {
        self.heap
            .collect(&self.layouts, roots.iter().copied())
            .unwrap();
    }

    /// The values of the list starting at `head`.
    fn list(&self, mut head: u64) -> Vec<i64> {
        let mut values = Vec::new();
        while head != 0 {
            assert!(self.heap.is_object(head));
            assert_eq!(self.heap.type_of(head as u32), PAIR);
            values.push(self.read(head as u32 + 8) as i64);
            head = self.read(head as u32 + 16);
        }
        values
    }
}

#[test]
fn new_objects_are_zeroed_aligned_and_typed() {
    let mut f = Fixture::new(1 << 20);
    let a = f.alloc(PAIR, 0).unwrap();
    f.write(a + 8, u64::MAX);
    let b = f.alloc(BYTES, 13).unwrap();
    assert_ne!(a, 0);
    assert_eq!((a % GRANULE, b % GRANULE), (0, 0));
    assert_eq!(b, a + 24, "a pair takes three granules");
    assert_eq!((f.heap.type_of(b), f.heap.len_of(b)), (BYTES, 13));
    assert!(
        f.heap.memory().data()[b as usize + 8..b as usize + 21]
            .iter()
            .all(|&x| x == 0)
    );
    assert!(f.heap.is_object(a.into()) && f.heap.is_object(b.into()));
    assert!(!f.heap.is_object(0) && !f.heap.is_object(u64::from(a) + 8));
}

#[test]
fn unreachable_objects_are_freed_and_their_space_reused() {
    let mut f = Fixture::new(1 << 20);
    let kept = f.cons(7, 0);
    for _ in 0..100 {
        f.cons(1, 0);
    }
    f.collect(&[kept.into()]);
    let stats = f.heap.stats();
    assert_eq!(
        (stats.collections, stats.live_bytes, stats.freed_bytes),
        (1, 24, 2400)
    );
    // The freed run ended the used prefix, so it was given back: the next object
    // comes right after the survivor.
    assert_eq!(f.cons(8, 0), kept + 24);
    assert_eq!(f.list(kept.into()), [7]);
}

#[test]
fn a_freed_hole_is_filled_before_the_heap_grows() {
    let mut f = Fixture::new(1 << 20);
    let first = f.cons(1, 0);
    let hole: Vec<u32> = (0..4).map(|_| f.cons(2, 0)).collect();
    let last = f.cons(3, 0);
    f.collect(&[first.into(), last.into()]);
    // The four cells became one 96-byte block: three cells fit in it, then an array of
    // 8 bytes (16 with its header) in the rest.
    let again: Vec<u32> = (0..3).map(|_| f.cons(4, 0)).collect();
    assert!(again.iter().all(|c| (hole[0]..last).contains(c)));
    let bytes = f.alloc(BYTES, 8).unwrap();
    assert!((hole[0]..last).contains(&bytes));
    assert!(f.alloc(BYTES, 1).unwrap() > last, "the hole is full");
}

#[test]
fn reachable_graphs_survive_with_their_contents_and_cycles_are_reclaimed() {
    let mut f = Fixture::new(1 << 22);
    // A long-lived list of 1..=1000, and a cycle of two cells nobody references.
    let mut head = 0u64;
    for value in (1..=1000).rev() {
        head = f.cons(value, head).into();
    }
    let a = f.cons(-1, 0);
    let b = f.cons(-2, a.into());
    f.write(a + 16, b.into());
    let live_before = f.heap.stats().live_bytes;
    for round in 0..50 {
        for garbage in 0..1000 {
            f.cons(garbage, 0);
        }
        f.collect(&[head]);
        assert_eq!(
            f.list(head),
            (1..=1000).collect::<Vec<_>>(),
            "round {round}"
        );
    }
    assert!(!f.heap.is_object(a.into()) && !f.heap.is_object(b.into()));
    assert_eq!(f.heap.stats().live_bytes, 1000 * 24);
    assert_eq!(live_before, 0);
}

#[test]
fn arrays_of_references_are_traced() {
    let mut f = Fixture::new(1 << 20);
    let array = f.alloc(REFS, 3).unwrap();
    let cells: Vec<u32> = (0..3).map(|i| f.cons(i, 0)).collect();
    f.write(array + 8, cells[0].into());
    f.write(array + 24, cells[2].into());
    f.collect(&[array.into()]);
    assert!(f.heap.is_object(cells[0].into()) && f.heap.is_object(cells[2].into()));
    assert!(!f.heap.is_object(cells[1].into()));
}

#[test]
fn words_that_are_not_objects_are_ignored_as_roots() {
    let mut f = Fixture::new(1 << 20);
    let cell = f.cons(5, 0);
    let other = f.cons(6, 0);
    // Null, an i31 (odd), a host reference (tag 2), an interior word, a word past the
    // end and the object itself: only the last keeps anything.
    let roots = [
        0,
        0x55,
        0x1_0000_0002,
        u64::from(other) + 8,
        1 << 40,
        cell.into(),
    ];
    f.collect(&roots);
    assert!(f.heap.is_object(cell.into()));
    assert!(!f.heap.is_object(other.into()));
}

#[test]
fn a_full_heap_refuses_and_recovers_after_a_collection() {
    let mut f = Fixture::new(PAGE_BYTES);
    let mut cells = Vec::new();
    while let Some(cell) = f.alloc(PAIR, 0) {
        cells.push(cell);
    }
    assert_eq!(cells.len(), (PAGE_BYTES as usize - 8) / 24);
    assert!(
        f.alloc(BYTES, 1 << 20).is_none(),
        "larger than the heap may grow"
    );
    assert!(f.alloc(BYTES, u32::MAX).is_none(), "larger than any heap");
    f.collect(&[]);
    assert_eq!(f.alloc(PAIR, 0), Some(cells[0]));
}

const PAGE_BYTES: u64 = 65536;

#[test]
fn churn_stays_within_twice_the_live_bytes_plus_the_budget() {
    let mut f = Fixture::new(1 << 30);
    let mut head = 0u64;
    for value in 0..1000 {
        head = f.cons(value, head).into();
    }
    for i in 0..200_000u32 {
        if f.heap.should_collect() {
            f.collect(&[head]);
        }
        // Short-lived cells, arrays and two-cell cycles.
        let a = f.cons(i.into(), 0);
        let b = f.cons(i.into(), a.into());
        f.write(a + 16, b.into());
        f.alloc(BYTES, i % 100).unwrap();
    }
    assert!(f.heap.stats().collections > 5);
    let bound = 2 * 1000 * 24 + 2 * MIN_BUDGET as usize;
    assert!(
        f.heap.memory().len() <= bound,
        "{} > {bound}",
        f.heap.memory().len()
    );
    assert_eq!(f.list(head).len(), 1000);
}
