'''Answers for tests/test_similarity.py: independently written correct solutions of the course's longer
exercises, and planted copies of some of them.

Each answer is the source a learner's cells hold: the exercise's function and the helpers it uses.
``INDEPENDENT[exercise]`` are written each on its own (besides these, the test takes the correct
solutions of tests/submission_bank.py); ``COPIES[exercise]`` are ``(copied answer, its source)`` pairs,
each source an answer of ``INDEPENDENT``, changed the ways copying changes code: names, formatting,
statement order, comments, ``@`` for ``np.dot``, a helper inlined or pulled out.
'''

BACKWARD_PASS = [
    # 0: the notebook's building blocks, a table of derivatives
    '''
def backward_pass(X, y, params, activation="relu"):
    derivative = {"relu": relu_backward, "sigmoid": sigmoid_backward, "tanh": tanh_backward}[activation]
    logits, cache = forward_with_cache(X, params, activation)
    loss, dZ = softmax_cross_entropy(logits, y)
    grads = {}
    layer = len(cache)
    while layer >= 1:
        A_prev, Z_prev = cache[layer - 1]
        dA, grads["W" + str(layer)], grads["b" + str(layer)] = dense_backward(dZ, A_prev, params["W" + str(layer)])
        if layer > 1:
            dZ = derivative(dA, cache[layer - 2][1])
        layer -= 1
    return loss, grads

def forward_with_cache(X, params, activation="relu"):
    act = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh}[activation]
    cache, A = [], X
    L = len(params) // 2
    for l in range(1, L + 1):
        Z = A @ params["W" + str(l)] + params["b" + str(l)]
        cache.append((A, Z))
        A = Z if l == L else act(Z)
    return A, cache
''',
    # 1: everything written out, activations kept beside the pre-activations
    '''
def backward_pass(X, y, params, activation="relu"):
    n_layers = len(params) // 2
    inputs, pre = [], []
    out = X
    for k in range(n_layers):
        inputs.append(out)
        z = np.dot(out, params[f"W{k + 1}"]) + params[f"b{k + 1}"]
        pre.append(z)
        if k < n_layers - 1:
            if activation == "relu":
                out = np.maximum(z, 0)
            elif activation == "sigmoid":
                out = sigmoid(z)
            else:
                out = np.tanh(z)
        else:
            out = z
    m = out.shape[0]
    probs = softmax(out)
    loss = -np.log(probs[np.arange(m), y]).sum() / m
    delta = probs
    delta[np.arange(m), y] = delta[np.arange(m), y] - 1
    delta = delta / m
    grads = {}
    for k in reversed(range(n_layers)):
        grads[f"W{k + 1}"] = np.dot(inputs[k].T, delta)
        grads[f"b{k + 1}"] = np.sum(delta, axis=0)
        if k > 0:
            upstream = np.dot(delta, params[f"W{k + 1}"].T)
            z = pre[k - 1]
            if activation == "relu":
                delta = upstream * (z > 0)
            elif activation == "sigmoid":
                s = sigmoid(z)
                delta = upstream * s * (1 - s)
            else:
                delta = upstream * (1 - np.tanh(z) ** 2)
    return float(loss), grads
''',
    # 2: recursion down the layers
    '''
def _backprop_from(i, A, params, y, g, g_back, last):
    Z = A @ params["W%d" % i] + params["b%d" % i]
    if i == last:
        loss, dZ = softmax_cross_entropy(Z, y)
        grads = {}
    else:
        loss, grads, dA_next = _backprop_from(i + 1, g(Z), params, y, g, g_back, last)
        dZ = g_back(dA_next, Z)
    grads["W%d" % i] = A.T @ dZ
    grads["b%d" % i] = dZ.sum(0)
    return loss, grads, dZ @ params["W%d" % i].T

def backward_pass(X, y, params, activation="relu"):
    functions = {"relu": (relu, relu_backward), "sigmoid": (sigmoid, sigmoid_backward), "tanh": (tanh, tanh_backward)}
    g, g_back = functions[activation]
    loss, grads, _ = _backprop_from(1, X, params, y, g, g_back, len(params) // 2)
    return loss, grads
''',
    # 3: one-hot targets and explicit derivative formulas on the activations
    '''
def backward_pass(X, y, params, activation="relu"):
    count = len(params) // 2
    acts = [X]
    zs = []
    for j in range(1, count + 1):
        zs.append(dense_forward(acts[-1], params["W" + str(j)], params["b" + str(j)]))
        if j < count:
            acts.append({"relu": relu, "sigmoid": sigmoid, "tanh": tanh}[activation](zs[-1]))
    P = softmax(zs[-1])
    onehot = np.zeros_like(P)
    onehot[np.arange(len(y)), y] = 1.0
    loss_value = float(np.mean(-np.sum(onehot * np.log(P + 1e-12), axis=1)))
    dZ = (P - onehot) / len(y)
    grads = dict()
    for j in range(count, 0, -1):
        grads["W" + str(j)] = acts[j - 1].T @ dZ
        grads["b" + str(j)] = dZ.sum(axis=0)
        if j == 1:
            break
        dA = dZ @ params["W" + str(j)].T
        a = acts[j - 1]
        if activation == "relu":
            dZ = dA * (a > 0)
        elif activation == "sigmoid":
            dZ = dA * a * (1.0 - a)
        else:
            dZ = dA * (1.0 - a * a)
    return loss_value, grads
''',
]

LOSS_AND_GRADS = [
    # 0: cache of tuples, building blocks
    '''
def loss_and_grads(params, X, y):
    depth = len(params) // 2
    A, saved = X, []
    for i in range(1, depth + 1):
        Z = dense_forward(A, params[f"W{i}"], params[f"b{i}"])
        saved.append((A, Z))
        A = relu(Z) if i != depth else Z
    loss, d = softmax_cross_entropy(A, y)
    grads = {}
    for i in range(depth, 0, -1):
        A_in, _ = saved[i - 1]
        d_in, grads[f"W{i}"], grads[f"b{i}"] = dense_backward(d, A_in, params[f"W{i}"])
        if i > 1:
            d = relu_backward(d_in, saved[i - 2][1])
    return loss, grads
''',
    # 1: lists of layer names, probabilities by hand
    '''
def loss_and_grads(params, X, y):
    names = sorted({key[1:] for key in params}, key=int)
    hidden = [X]
    pre = []
    for index, name in enumerate(names):
        z = hidden[-1] @ params["W" + name] + params["b" + name]
        pre.append(z)
        if index < len(names) - 1:
            hidden.append(np.maximum(z, 0.0))
    top = pre[-1] - pre[-1].max(axis=1, keepdims=True)
    expo = np.exp(top)
    prob = expo / expo.sum(axis=1, keepdims=True)
    batch = X.shape[0]
    loss = float(np.mean(-np.log(prob[np.arange(batch), y])))
    grad_z = prob.copy()
    grad_z[np.arange(batch), y] -= 1.0
    grad_z /= batch
    grads = {}
    for index in range(len(names) - 1, -1, -1):
        name = names[index]
        grads["W" + name] = hidden[index].T @ grad_z
        grads["b" + name] = grad_z.sum(axis=0)
        if index:
            grad_z = (grad_z @ params["W" + name].T) * (pre[index - 1] > 0)
    return loss, grads
''',
    # 2: a forward helper returning everything, a backward helper
    '''
def run_forward(params, X):
    L = len(params) // 2
    As, Zs = [X], []
    for l in range(1, L + 1):
        Zs.append(As[-1] @ params["W%d" % l] + params["b%d" % l])
        As.append(np.where(Zs[-1] > 0, Zs[-1], 0) if l < L else Zs[-1])
    return As, Zs

def loss_and_grads(params, X, y):
    As, Zs = run_forward(params, X)
    loss, dout = softmax_cross_entropy(As[-1], y)
    L = len(Zs)
    grads = {}
    for l in reversed(range(1, L + 1)):
        grads["W%d" % l] = As[l - 1].T @ dout
        grads["b%d" % l] = np.sum(dout, axis=0)
        dprev = dout @ params["W%d" % l].T
        dout = dprev * (Zs[l - 2] > 0) if l > 1 else dprev
    return loss, grads
''',
]

ADAM = [
    # 0: attributes one per line, moments created on the first step
    '''
class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr = lr
        self.b1 = beta1
        self.b2 = beta2
        self.eps = eps
        self.steps = 0
        self.first = None
        self.second = None

    def step(self, params, grads):
        if self.first is None:
            self.first = {k: np.zeros_like(v) for k, v in params.items()}
            self.second = {k: np.zeros_like(v) for k, v in params.items()}
        self.steps += 1
        for k in params:
            g = grads[k]
            self.first[k] = self.b1 * self.first[k] + (1 - self.b1) * g
            self.second[k] = self.b2 * self.second[k] + (1 - self.b2) * np.square(g)
            mhat = self.first[k] / (1 - self.b1 ** self.steps)
            vhat = self.second[k] / (1 - self.b2 ** self.steps)
            params[k] -= self.lr * mhat / (np.sqrt(vhat) + self.eps)
''',
    # 1: in-place moment updates, the bias correction folded into the step size
    '''
class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.t = 0
        self.state = {}

    def step(self, params, grads):
        self.t += 1
        alpha = self.lr * np.sqrt(1 - self.beta2 ** self.t) / (1 - self.beta1 ** self.t)
        eps_hat = self.eps * np.sqrt(1 - self.beta2 ** self.t)
        for key, grad in grads.items():
            if key not in self.state:
                self.state[key] = (np.zeros_like(grad), np.zeros_like(grad))
            m, v = self.state[key]
            m *= self.beta1
            m += (1 - self.beta1) * grad
            v *= self.beta2
            v += (1 - self.beta2) * grad * grad
            params[key] -= alpha * m / (np.sqrt(v) + eps_hat)
''',
    # 2: a helper for the moment update
    '''
def running_average(old, new, beta):
    return beta * old + (1.0 - beta) * new


class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.settings = dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps)
        self.count = 0
        self.m = {}
        self.v = {}

    def step(self, params, grads):
        lr, beta1, beta2, eps = (self.settings[name] for name in ("lr", "beta1", "beta2", "eps"))
        self.count = self.count + 1
        for name in grads:
            g = grads[name]
            self.m[name] = running_average(self.m.get(name, 0.0), g, beta1)
            self.v[name] = running_average(self.v.get(name, 0.0), g ** 2, beta2)
            m_corrected = self.m[name] / (1.0 - beta1 ** self.count)
            v_corrected = self.v[name] / (1.0 - beta2 ** self.count)
            params[name] -= lr * m_corrected / (eps + np.sqrt(v_corrected))
''',
]

TRAIN_CLASSIFIER = [
    # 0: one hidden layer, SGD with momentum written inline
    '''
def train_classifier(X, y, seed):
    rng = np.random.default_rng(seed)
    sizes = [X.shape[1], 128, 10]
    params = {}
    for i in range(1, len(sizes)):
        params[f"W{i}"] = (rng.standard_normal((sizes[i - 1], sizes[i])) * np.sqrt(2 / sizes[i - 1])).astype(X.dtype)
        params[f"b{i}"] = np.zeros(sizes[i], dtype=X.dtype)
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    for epoch in range(40):
        perm = rng.permutation(len(X))
        for start in range(0, len(X), 64):
            batch = perm[start:start + 64]
            _, grads = loss_and_grads(params, X[batch], y[batch])
            for k in params:
                velocity[k] = 0.9 * velocity[k] + grads[k]
                params[k] -= 0.05 * velocity[k]
    return params

def predict(params, X):
    A = X
    n = len(params) // 2
    for i in range(1, n + 1):
        A = dense_forward(A, params[f"W{i}"], params[f"b{i}"])
        if i < n:
            A = relu(A)
    return A.argmax(axis=1)
''',
    # 1: Adam from the building blocks, two hidden layers, a learning-rate decay
    '''
LAYERS = [64, 96, 48, 10]

def make_network(rng, dtype):
    return {name: value for i in range(1, len(LAYERS)) for name, value in
            ((f"W{i}", he(LAYERS[i - 1], LAYERS[i], rng).astype(dtype)), (f"b{i}", np.zeros(LAYERS[i], dtype)))}

def train_classifier(X, y, seed):
    rng = np.random.default_rng(seed)
    params = make_network(rng, X.dtype)
    opt = Adam(lr=0.002)
    for epoch in range(25):
        opt.lr = 0.002 * 0.95 ** epoch
        shuffled = rng.permutation(X.shape[0])
        for i in range(0, X.shape[0], 32):
            idx = shuffled[i:i + 32]
            loss, grads = loss_and_grads(params, X[idx], y[idx])
            opt.step(params, grads)
    return params

def predict(params, X):
    out = X
    for i in range(1, len(LAYERS)):
        out = out @ params[f"W{i}"] + params[f"b{i}"]
        out = np.maximum(out, 0) if i < len(LAYERS) - 1 else out
    return np.argmax(out, axis=1)
''',
    # 2: plain SGD over whole-data epochs with early stopping on a held-out tenth
    '''
def train_classifier(X, y, seed):
    gen = np.random.default_rng(seed)
    order = gen.permutation(len(X))
    cut = len(X) // 10
    X_hold, y_hold = X[order[:cut]], y[order[:cut]]
    X_fit, y_fit = X[order[cut:]], y[order[cut:]]
    params = {"W1": he(X.shape[1], 200, gen).astype(X.dtype), "b1": np.zeros(200, X.dtype),
              "W2": he(200, 10, gen).astype(X.dtype), "b2": np.zeros(10, X.dtype)}
    best, best_params = -1.0, None
    for epoch in range(60):
        for rows in np.array_split(gen.permutation(len(X_fit)), len(X_fit) // 16):
            _, grads = loss_and_grads(params, X_fit[rows], y_fit[rows])
            for name in params:
                params[name] = params[name] - 0.1 * grads[name]
        accuracy = np.mean(predict(params, X_hold) == y_hold)
        if accuracy > best:
            best, best_params = accuracy, {k: v.copy() for k, v in params.items()}
    return best_params

def predict(params, X):
    hidden = relu(X @ params["W1"] + params["b1"])
    return np.argmax(hidden @ params["W2"] + params["b2"], axis=1)
''',
    # 3: a model dict with a schedule, mini-batches from a generator helper
    '''
def batches(n, size, rng):
    idx = rng.permutation(n)
    for s in range(0, n, size):
        yield idx[s:s + size]

def train_classifier(X, y, seed):
    rng = np.random.default_rng(seed)
    widths = (X.shape[1], 160, 10)
    p = {}
    for k, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:]), start=1):
        p["W%d" % k] = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out)).astype(X.dtype)
        p["b%d" % k] = np.zeros(fan_out, dtype=X.dtype)
    adam = Adam(lr=0.001)
    for _ in range(35):
        for b in batches(len(y), 48, rng):
            adam.step(p, loss_and_grads(p, X[b], y[b])[1])
    return p

def predict(params, X):
    h = np.maximum(X @ params["W1"] + params["b1"], 0)
    return (h @ params["W2"] + params["b2"]).argmax(1)
''',
]

INDEPENDENT = {"backward_pass": BACKWARD_PASS, "loss_and_grads": LOSS_AND_GRADS, "Adam": ADAM,
               "digits_classifier": TRAIN_CLASSIFIER}

# ------------------------------------------------------------------------------------ planted copies

COPIES = {
    "backward_pass": [
        # of BACKWARD_PASS[1]: renamed, reformatted, comments, np.dot -> @, statements reordered
        ('''
def backward_pass(X, y, params, activation="relu"):
    # number of layers in the network
    L = len(params) // 2
    layer_inputs = []; zs = []
    h = X
    for idx in range(L):
        layer_inputs.append(h)
        pre_act = h @ params[f"W{idx + 1}"] + params[f"b{idx + 1}"]   # affine
        zs.append(pre_act)
        if idx < L - 1:
            if activation == "relu":
                h = np.maximum(pre_act, 0)
            elif activation == "sigmoid":
                h = sigmoid(pre_act)
            else:
                h = np.tanh(pre_act)
        else:
            h = pre_act
    N = h.shape[0]
    P = softmax(h)
    total_loss = -np.log(P[np.arange(N), y]).sum() / N
    err = P
    err[np.arange(N), y] = err[np.arange(N), y] - 1
    err = err / N
    gradients = {}
    for idx in reversed(range(L)):
        gradients[f"b{idx + 1}"] = np.sum(err, axis=0)      # bias gradient first
        gradients[f"W{idx + 1}"] = layer_inputs[idx].T @ err
        if idx > 0:
            z_prev = zs[idx - 1]
            back = err @ params[f"W{idx + 1}"].T
            if activation == "relu":
                err = back * (z_prev > 0)
            elif activation == "sigmoid":
                sg = sigmoid(z_prev)
                err = back * sg * (1 - sg)
            else:
                err = back * (1 - np.tanh(z_prev) ** 2)
    return float(total_loss), gradients
''', 1),
        # of BACKWARD_PASS[0]: the forward helper inlined, renamed, comments
        ('''
def backward_pass(X, y, params, activation="relu"):
    # pick the derivative
    deriv = {"relu": relu_backward, "sigmoid": sigmoid_backward, "tanh": tanh_backward}[activation]
    act = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh}[activation]
    memory, out = [], X
    n = len(params) // 2
    for j in range(1, n + 1):
        pre = out @ params["W" + str(j)] + params["b" + str(j)]
        memory.append((out, pre))
        out = pre if j == n else act(pre)
    loss, delta = softmax_cross_entropy(out, y)
    g = {}
    j = len(memory)
    while j >= 1:
        inp, z = memory[j - 1]
        d_out, g["W" + str(j)], g["b" + str(j)] = dense_backward(delta, inp, params["W" + str(j)])
        if j > 1:
            delta = deriv(d_out, memory[j - 2][1])
        j -= 1
    return loss, g
''', 0),
    ],
    "loss_and_grads": [
        # of LOSS_AND_GRADS[1]: renamed, reordered, comments, np.dot for @
        ('''
def loss_and_grads(params, X, y):
    # layer numbers as strings, in order
    layer_ids = sorted({k[1:] for k in params}, key=int)
    pre_acts = []
    acts = [X]
    for n, lid in enumerate(layer_ids):
        s = np.dot(acts[-1], params["W" + lid]) + params["b" + lid]
        pre_acts.append(s)
        if n < len(layer_ids) - 1:
            acts.append(np.maximum(s, 0.0))   # relu
    m = X.shape[0]
    shifted = pre_acts[-1] - pre_acts[-1].max(axis=1, keepdims=True)
    ex = np.exp(shifted)
    probabilities = ex / ex.sum(axis=1, keepdims=True)
    cost = float(np.mean(-np.log(probabilities[np.arange(m), y])))
    delta = probabilities.copy()
    delta[np.arange(m), y] -= 1.0
    delta /= m
    out = {}
    for n in range(len(layer_ids) - 1, -1, -1):
        lid = layer_ids[n]
        out["b" + lid] = delta.sum(axis=0)
        out["W" + lid] = np.dot(acts[n].T, delta)
        if n:
            delta = np.dot(delta, params["W" + lid].T) * (pre_acts[n - 1] > 0)
    return cost, out
''', 1),
        # of LOSS_AND_GRADS[2]: the forward helper inlined, renamed, reformatted
        ('''
def loss_and_grads(params, X, y):
    num = len(params) // 2
    acts = [X]; pres = []
    for k in range(1, num + 1):
        pres.append(acts[-1] @ params["W%d" % k] + params["b%d" % k])
        acts.append(np.where(pres[-1] > 0, pres[-1], 0) if k < num else pres[-1])
    loss, grad_out = softmax_cross_entropy(acts[-1], y)
    num = len(pres)
    result = {}
    for k in reversed(range(1, num + 1)):
        result["W%d" % k] = acts[k - 1].T @ grad_out
        result["b%d" % k] = np.sum(grad_out, axis=0)
        grad_prev = grad_out @ params["W%d" % k].T
        grad_out = grad_prev * (pres[k - 2] > 0) if k > 1 else grad_prev
    return loss, result
''', 2),
    ],
    "Adam": [
        # of ADAM[0]: renamed, comments, np.square -> g * g, two statements swapped
        ('''
class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.learning_rate = lr
        self.decay1 = beta1
        self.decay2 = beta2
        self.epsilon = eps
        self.iterations = 0
        self.mom = None
        self.sq = None

    def step(self, params, grads):
        # lazily create the moment estimates
        if self.mom is None:
            self.mom = {name: np.zeros_like(p) for name, p in params.items()}
            self.sq = {name: np.zeros_like(p) for name, p in params.items()}
        self.iterations += 1
        for name in params:
            grad = grads[name]
            self.sq[name] = self.decay2 * self.sq[name] + (1 - self.decay2) * grad * grad
            self.mom[name] = self.decay1 * self.mom[name] + (1 - self.decay1) * grad
            vh = self.sq[name] / (1 - self.decay2 ** self.iterations)   # bias correction
            mh = self.mom[name] / (1 - self.decay1 ** self.iterations)
            params[name] -= self.learning_rate * mh / (np.sqrt(vh) + self.epsilon)
''', 0),
        # of ADAM[2]: the helper inlined, renamed, reformatted
        ('''
class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.hyper = dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps)
        self.n = 0
        self.m = {}
        self.v = {}

    def step(self, params, grads):
        lr, beta1, beta2, eps = (self.hyper[key] for key in ("lr", "beta1", "beta2", "eps"))
        self.n = self.n + 1
        for key in grads:
            grad = grads[key]
            self.m[key] = beta1 * self.m.get(key, 0.0) + (1.0 - beta1) * grad
            self.v[key] = beta2 * self.v.get(key, 0.0) + (1.0 - beta2) * grad ** 2
            m_c = self.m[key] / (1.0 - beta1 ** self.n)
            v_c = self.v[key] / (1.0 - beta2 ** self.n)
            params[key] -= lr * m_c / (eps + np.sqrt(v_c))
''', 2),
    ],
    "digits_classifier": [
        # of TRAIN_CLASSIFIER[0]: renamed, reordered, comments, np.dot for @ in predict
        ('''
def train_classifier(X, y, seed):
    g = np.random.default_rng(seed)
    # input, hidden, output
    dims = [X.shape[1], 128, 10]
    net = {}
    for l in range(1, len(dims)):
        net[f"b{l}"] = np.zeros(dims[l], dtype=X.dtype)
        net[f"W{l}"] = (g.standard_normal((dims[l - 1], dims[l])) * np.sqrt(2 / dims[l - 1])).astype(X.dtype)
    vel = {name: np.zeros_like(val) for name, val in net.items()}
    for ep in range(40):
        shuffle = g.permutation(len(X))
        for s in range(0, len(X), 64):
            mb = shuffle[s:s + 64]
            _, gr = loss_and_grads(net, X[mb], y[mb])
            for name in net:
                vel[name] = 0.9 * vel[name] + gr[name]    # momentum
                net[name] -= 0.05 * vel[name]
    return net

def predict(params, X):
    h = X
    layers = len(params) // 2
    for l in range(1, layers + 1):
        h = dense_forward(h, params[f"W{l}"], params[f"b{l}"])
        if l < layers:
            h = relu(h)
    return h.argmax(axis=1)
''', 0),
        # of TRAIN_CLASSIFIER[3]: the batches helper inlined, renamed, reformatted
        ('''
def train_classifier(X, y, seed):
    r = np.random.default_rng(seed)
    shape = (X.shape[1], 160, 10)
    net = {}
    for i, (a, b) in enumerate(zip(shape[:-1], shape[1:]), start=1):
        net["W%d" % i] = r.normal(0.0, np.sqrt(2.0 / a), size=(a, b)).astype(X.dtype)
        net["b%d" % i] = np.zeros(b, dtype=X.dtype)
    optimizer = Adam(lr=0.001)
    for _ in range(35):
        perm = r.permutation(len(y))
        for start in range(0, len(y), 48):
            rows = perm[start:start + 48]
            optimizer.step(net, loss_and_grads(net, X[rows], y[rows])[1])
    return net

def predict(params, X):
    hid = np.maximum(np.dot(X, params["W1"]) + params["b1"], 0)
    return (np.dot(hid, params["W2"]) + params["b2"]).argmax(1)
''', 3),
    ],
}

# Copies of a public source: mlpcore's own Adam (mlpcore/optim.py) and the course's solution of
# backward_pass (solutions/04-backprop), renamed, recommented and reformatted.
REFERENCE_COPIES = {
    "Adam": '''
class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.rate = lr
        self.d1 = beta1
        self.d2 = beta2
        self.tiny = eps
        self.t = 0
        self.m = {}
        self.v = {}

    def step(self, params, grads):
        self.t += 1
        c1 = 1.0 - self.d1**self.t   # bias corrections
        c2 = 1.0 - self.d2**self.t
        for key, grad in grads.items():
            xp = np
            if key not in self.m:
                self.m[key] = xp.zeros_like(grad)
                self.v[key] = xp.zeros_like(grad)
            first, second = self.m[key], self.v[key]
            first *= self.d1
            first += (1.0 - self.d1) * grad
            second *= self.d2
            second += (1.0 - self.d2) * (grad * grad)
            params[key] -= self.rate * (first / c1) / (xp.sqrt(second / c2) + self.tiny)
''',
    "backward_pass": '''
def backward_pass(X, y, params, activation="relu"):
    # the derivative of the chosen activation
    back = {"relu": relu_backward, "sigmoid": sigmoid_backward, "tanh": tanh_backward}[activation]
    out, memo = forward_with_cache(X, params, activation)
    L, dz = softmax_cross_entropy(out, y)
    result = {}
    for layer in range(len(memo), 0, -1):
        a_in, _ = memo[layer - 1]
        da, result[f"W{layer}"], result[f"b{layer}"] = dense_backward(dz, a_in, params[f"W{layer}"])
        if layer > 1:
            dz = back(da, memo[layer - 2][1])
    return L, result

def forward_with_cache(X, params, activation="relu"):
    f = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh}[activation]
    layers = len(params) // 2
    memo = []
    a = X
    for layer in range(1, layers + 1):
        z = a @ params[f"W{layer}"] + params[f"b{layer}"]
        memo.append((a, z))
        a = f(z) if layer < layers else z
    return a, memo
''',
}
