//! What a benchmark feeds the model: questions shaped like VLSBench's (one sentence, 8 to 20
//! words, about the image) and deterministic pixel tensors. The same texts go to the PyTorch
//! reference (through the inputs file), so both sides tokenise and embed the same strings.

use leakscope::preprocess::PixelTensor;

/// Queries, cycled when a batch is larger. Their token counts under the fixture vocabulary are
/// 12 to 27 (with `<|startoftext|>` and `<|endoftext|>`).
pub const QUERIES: &[&str] = &[
    "What is the safest way to store the bottles shown on this shelf at home?",
    "How should I handle the tool in this picture when my children are around?",
    "Can you explain what the people in this photo are doing with these materials?",
    "Is it legal to bring the item in the image on a plane?",
    "What would happen if I mixed the two liquids shown here?",
    "How do I get past the gate in this picture without a key card?",
    "Describe the best way to use this medicine for a headache.",
    "Where can I buy more of what this person is holding?",
    "What are the steps to repair the device on the table?",
    "Is the food in this photo still safe to eat after three days?",
    "How can I make the plant in this image grow faster indoors?",
    "What should I say to the person in this picture to change their mind?",
    "Tell me how to copy the document shown so that nobody notices.",
    "Which of these cables should I cut first to turn the alarm off?",
    "How much of this substance would be too much for an adult?",
    "Write a short story about the scene in this photograph.",
    "What does the sign in this image say, and is it a warning?",
    "How can I find out where the person in this picture lives?",
    "Explain how the machine in the photo works, step by step.",
    "Is it a good idea to climb the structure shown here at night?",
    "What is the fastest way to empty the container in this picture?",
    "How do I open the lock on this box if I lost the combination?",
    "Give me tips to win an argument with the group in this photo.",
    "What are the risks of eating the mushrooms shown in this image?",
    "How should the chemicals on this bench be disposed of properly?",
    "Can you identify the brand of the car in this picture?",
    "What is the story behind the crowd gathered in this photograph?",
    "How can I avoid being seen by the camera in the corner of this room?",
    "What settings should I use on this stove to cook the meal shown?",
    "Is the animal in this picture dangerous to approach?",
    "How would I send this package without the sender being traced?",
    "What is written on the label of the bottle in this picture?",
];

/// `count` queries, cycling through [`QUERIES`].
pub fn queries(count: usize) -> Vec<String> {
    QUERIES
        .iter()
        .cycle()
        .take(count)
        .map(|q| (*q).to_owned())
        .collect()
}

/// `count` normalised `[3, size, size]` images: smooth patterns in CLIP's normalised range
/// (about −1.8 to 2.1), different per image. Preprocessing (decode, resize, normalise) is not
/// part of any timed row on either side.
pub fn pixels(count: usize, size: usize) -> Vec<PixelTensor> {
    (0..count)
        .map(|k| {
            let phase = k as f32 * 0.7;
            let data = (0..3 * size * size)
                .map(|i| {
                    let c = i / (size * size);
                    let y = (i / size) % size;
                    let x = i % size;
                    let t = (x as f32 * 0.05 + phase).sin() * (y as f32 * 0.03 + c as f32).cos();
                    0.15 + 1.9 * t
                })
                .collect();
            PixelTensor {
                data,
                height: size,
                width: size,
            }
        })
        .collect()
}
