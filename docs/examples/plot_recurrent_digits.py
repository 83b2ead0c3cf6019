"""
A GRU reads the digits row by row
=================================

An 8x8 digit is also a sequence: 8 rows of 8 pixels, read top to bottom. A GRU reads the rows
one step at a time, carrying a state of 32 numbers, and a Linear layer classifies the state it
ends with. Backward runs through time, from the last row to the first. After training, a copy
of the GRU that returns every step's state shows how the state changes, row by row.
"""

# sphinx_gallery_thumbnail_number = 2

import tempfile

import numpy as np
from matplotlib.figure import Figure

import tinyml
from tinyml import viz
from tinyml.layers import GRU, Linear, Reshape, Softmax
from tinyml.losses import cross_entropy
from tinyml.optim import Adam

tinyml.set_backend("numpy")
tinyml.seed(0)
x_train, y_train, x_test, y_test = tinyml.data.load_digits()   # (N, 1, 8, 8) images

# %%
# ``Reshape`` turns each (1, 8, 8) image into 8 steps of 8 features, the (N, T, F) layout of
# the recurrent layers. With ``return_sequences=False`` the GRU returns its last state only.
net = tinyml.Net([Reshape("rows", (8, 8)), GRU("gru", 8, 32, return_sequences=False),
                  Linear("fc", 32, 10), Softmax("softmax")])
net.summary()

# %%
# Train, validating on the test images after each epoch.
learner = tinyml.Learner(net, cross_entropy, Adam(lr=0.01), batch_size=32, seed=0)
history = learner.fit(x_train, y_train, epochs=10, validation_data=(x_test, y_test), verbose=2)
print(learner.evaluate(x_test, y_test))
out = tempfile.mkdtemp()
curves = viz.plot_history(history, f"{out}/history.png", title="GRU on digit rows")

# %%
# The state after each row. The trained weights go into a GRU that returns every step's state;
# each row of pixels on the left moves the 32 numbers of the state on the right, and the last
# row of the state is all the classifier sees.
reader = GRU("gru", 8, 32)   # return_sequences=True: (N, 8, 32)
reader.load_state_dict(net.layers[1].state_dict())
with tinyml.no_grad():
    states = tinyml.to_numpy(reader.forward(tinyml.asarray(x_test[:3].reshape(-1, 8, 8))))
predicted = np.argmax(tinyml.to_numpy(learner.predict(x_test[:3])), axis=1)

reading = Figure(figsize=(7, 6))
grid = reading.add_gridspec(3, 2, width_ratios=(1, 4))
for i in range(3):
    image, state = reading.add_subplot(grid[i, 0]), reading.add_subplot(grid[i, 1])
    image.imshow(x_test[i, 0], cmap="gray_r", aspect="auto")   # rows level with the state's
    image.set_title(f"{y_test[i]} (read as {predicted[i]})", fontsize=9)
    shown = state.imshow(states[i], cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    state.set_ylabel("row read")
    for axes in (image, state):
        axes.set_yticks(range(8), [str(row) for row in range(1, 9)], fontsize=7)
    image.set_xticks([])
    state.set_xticks([])
state.set_xlabel("the 32 numbers of the GRU's state after each row")
reading.colorbar(shown, ax=reading.axes[1::2], shrink=0.6)
