"""Classify short "sentences" of word ids by topic: Embedding → Flatten → Dense, ≥ 0.9 accuracy.

    python examples/embedding_classifier.py          15 epochs
    python examples/embedding_classifier.py --fast   2 epochs (what the test suite runs)

What it shows: text goes into a network as integer ids, one per word, and an `Embedding` turns
each id into a learned vector (a row of its table). The sentences here are synthetic, so the
example runs offline: each one has a topic (sports, weather or music), two or three of that
topic's keywords at random places among filler words, often one keyword of another topic to
mislead, and zeros after its end as padding, the way `pad_sequences` pads real text. The network
has to learn which words matter, that the majority decides, and that it does not matter where
in the sentence the words are.
"""

import os
import sys

import numpy as np

from minikeras import Sequential
from minikeras.layers import Dense, Embedding, Flatten, Input
from minikeras.utils import set_random_seed, to_categorical

FAST = "--fast" in sys.argv or os.environ.get("MINIKERAS_FAST") == "1"
EPOCHS = 2 if FAST else 15
MAX_LENGTH = 10  # words per sentence, padding included

TOPICS = {
    "sports": "goal match team score coach league player referee".split(),
    "weather": "rain sunny cloud storm wind forecast snow cold".split(),
    "music": "guitar song album concert band melody drums singer".split(),
}
FILLER = "the a of and to in is it was on for with as at by this that very".split()
# id 0 is padding; then the filler words, then every topic's keywords
WORDS = ["<pad>"] + FILLER + [word for words in TOPICS.values() for word in words]
WORD_ID = {word: i for i, word in enumerate(WORDS)}


def make_sentences(n, rng):
    """n sentences of ids, padded to MAX_LENGTH, and their topic numbers."""
    x = np.zeros((n, MAX_LENGTH), dtype=np.int64)
    topics = rng.integers(0, len(TOPICS), size=n)
    keywords = list(TOPICS.values())
    for i, topic in enumerate(topics):
        length = rng.integers(5, MAX_LENGTH + 1)
        sentence = list(rng.choice(FILLER, size=length))
        places = rng.choice(length, size=4, replace=False)
        for place in places[: rng.integers(2, 4)]:
            sentence[place] = rng.choice(keywords[topic])
        if rng.random() < 0.5:  # a word of another topic, in the 4th place drawn
            other = (topic + rng.integers(1, len(TOPICS))) % len(TOPICS)
            sentence[places[3]] = rng.choice(keywords[other])
        x[i, :length] = [WORD_ID[word] for word in sentence]
    return x, topics


set_random_seed(0)
rng = np.random.default_rng(0)
x_train, topics_train = make_sentences(3000, rng)
x_test, topics_test = make_sentences(600, rng)
y_train, y_test = to_categorical(topics_train, 3), to_categorical(topics_test, 3)
print(f"vocabulary {len(WORDS)} words, train {x_train.shape}, test {x_test.shape}")
print("a sentence as ids:  ", x_train[0].tolist())
print("the same as words:  ", " ".join(WORDS[i] for i in x_train[0] if i))

model = Sequential(
    [
        Input(shape=(MAX_LENGTH,)),
        Embedding(input_dim=len(WORDS), output_dim=8),  # (batch, 10) → (batch, 10, 8)
        Flatten(),  # → (batch, 80)
        Dense(16, activation="relu"),
        Dense(3, activation="softmax"),
    ]
)
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.summary()

history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, validation_split=0.1)
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test loss {test_loss:.4f}, test accuracy {test_accuracy:.4f}")

# new text: words → ids → padded to MAX_LENGTH → a topic
for text in ("the band was on tour with a new album", "cold wind and snow in the forecast"):
    ids = [WORD_ID.get(word, WORD_ID["the"]) for word in text.split()][:MAX_LENGTH]
    padded = np.array([ids + [0] * (MAX_LENGTH - len(ids))])
    probabilities = model.predict(padded, verbose=0)[0]
    print(f"{text!r}: {list(TOPICS)[int(np.argmax(probabilities))]} ({probabilities.max():.2f})")

if not FAST and test_accuracy < 0.9:
    sys.exit(f"test accuracy {test_accuracy:.4f} is below 0.9")
