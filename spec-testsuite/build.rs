// include_dir! does not tell cargo which files it read, so a new or edited regression
// file would not rebuild the crate without this.
fn main() {
    println!("cargo:rerun-if-changed=regressions");
}
