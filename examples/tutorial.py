from minikeras.models import Sequential
from minikeras.layers import Dense
from minikeras.utils import np_utils          # Keras 2 spelling; Keras 3 has keras.utils.to_categorical
import numpy as np

data = np.random.random((1000, 784))                 # 1000 samples, 784 features in [0, 1)
labels = np.random.randint(10, size=(1000, 1))       # integer classes 0..9, shape (1000, 1)
labels = np_utils.to_categorical(labels, 10)         # one-hot, shape (1000, 10)

model = Sequential()
model.add(Dense(64, activation='relu', input_dim=784))
model.add(Dense(10, activation='softmax'))
model.compile(optimizer='rmsprop',
              loss='categorical_crossentropy',
              metrics=['accuracy'])
model.fit(data, labels)                              # 1 epoch, batch 32: 32 steps
