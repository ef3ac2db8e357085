//! Prints the register table the README carries: `cargo run -p bloomtime-model --example regmap`.

fn main() {
    print!("{}", bloomtime_model::regmap::markdown());
}
