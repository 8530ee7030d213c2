// ksp-rust-wordfreq is a kernel of the Sightglass workload written in Rust:
// it generates N pseudo-random words (N from default.input), counts them in
// a HashMap, sorts the counts and prints the most frequent. Build it with
// Debian's rustc for wasm32-wasi (see build.sh).
use std::collections::HashMap;

#[link(wasm_import_module = "bench")]
extern "C" {
    #[link_name = "start"]
    fn bench_start();
    #[link_name = "end"]
    fn bench_end();
}

fn main() {
    let input = std::fs::read_to_string("default.input").expect("read default.input");
    let n: usize = input.trim().parse().expect("default.input: want a number");
    let syllables = ["ka", "lo", "mi", "ne", "ru", "so", "ta", "vi", "ze", "po", "qu", "xe"];
    let mut x: u32 = 2463534242;
    let mut words = Vec::with_capacity(n);
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let len = 1 + (x % 3) as usize;
        let mut w = String::new();
        let mut y = x >> 2;
        for _ in 0..len {
            w.push_str(syllables[(y % 12) as usize]);
            y /= 12;
        }
        words.push(w);
    }

    unsafe { bench_start() };
    let mut counts: HashMap<&str, u32> = HashMap::new();
    for w in &words {
        *counts.entry(w.as_str()).or_insert(0) += 1;
    }
    let mut top: Vec<(&str, u32)> = counts.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    unsafe { bench_end() };

    println!("{} words, {} distinct", n, top.len());
    for (w, c) in top.iter().take(3) {
        println!("{} {}", w, c);
    }
}
