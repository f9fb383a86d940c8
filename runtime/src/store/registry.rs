//! The name registry: which module instance answers imports from module name `m`
//! (wazero's `nameToModule`). Names are claimed before instantiation starts, so two
//! threads racing for a name cannot both win.

use std::collections::HashMap;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    /// Claimed by an instantiation still in progress.
    Reserved,
    Ready(u32),
}

#[derive(Default, Debug)]
pub(crate) struct Registry {
    names: HashMap<String, Entry>,
}

fn taken(name: &str) -> Error {
    Error::Instantiation(format!(
        "module[{name}] has already been instantiated (module already registered)"
    ))
}

impl Registry {
    pub fn get(&self, name: &str) -> Option<u32> {
        match self.names.get(name) {
            Some(Entry::Ready(i)) => Some(*i),
            _ => None,
        }
    }

    /// Claims `name` for an instantiation about to start.
    pub fn reserve(&mut self, name: &str) -> Result<()> {
        if self.names.contains_key(name) {
            return Err(taken(name));
        }
        self.names.insert(name.to_string(), Entry::Reserved);
        Ok(())
    }

    /// Completes a reservation.
    pub fn publish(&mut self, name: &str, instance: u32) {
        self.names.insert(name.to_string(), Entry::Ready(instance));
    }

    /// Drops a reservation whose instantiation failed.
    pub fn release(&mut self, name: &str) {
        if self.names.get(name) == Some(&Entry::Reserved) {
            self.names.remove(name);
        }
    }

    /// Adds another name for a ready instance; a name already in use is replaced, as
    /// the spec harness's `register` expects.
    pub fn insert(&mut self, name: &str, instance: u32) -> Result<()> {
        if self.names.get(name) == Some(&Entry::Reserved) {
            return Err(taken(name));
        }
        self.names.insert(name.to_string(), Entry::Ready(instance));
        Ok(())
    }

    /// Removes every name that points at `instance` (it was closed).
    pub fn remove_instance(&mut self, instance: u32) {
        self.names.retain(|_, e| *e != Entry::Ready(instance));
    }
}
