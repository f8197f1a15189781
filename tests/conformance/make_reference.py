#!/usr/bin/python3
"""Reference trajectories for bprun's optimizer plugins (tests/check_conformance.c).

Run with Debian's python3 (it has python3-torch and numpy), from anywhere:

    /usr/bin/python3 tests/conformance/make_reference.py > tests/conformance/reference.txt

Every case runs an optimizer for STEPS steps on one fixed problem: parameters w (N float32
values) and the gradient of

    L(w) = 1/2 (w - c)^T A (w - c) + q/4 sum_i (w_i - c_i)^4

evaluated at the CURRENT parameters before each step, in double precision with a fixed loop
order, then rounded to float32:

    g_i = float32( sum_{j=0..N-1} A[i][j] * (w_j - c_j)  +  q * d_i*d_i*d_i ),  d_i = w_i - c_i

(the sum accumulates from j = 0 upward, starting at 0.0; the cubic term is added last).
The C test computes the same expression in the same order, so both sides feed the optimizer
identical float gradients and any difference comes from the optimizer alone.

The optimizers are torch.optim's (foreach=False: the single-tensor code path, whose formulas
the plugins transcribe). Quickprop has no torch implementation; it is computed by quickprop()
below, an independent transcription of FANN's fann_update_weights_quickprop (libfann 2.2,
src/fann_train.c) in float32 arithmetic, with FANN's slope = -gradient convention.

Output: plain text, every number as a C99 hexadecimal float (exact; strtod reads it). N is
chosen so that torch's AVX2 kernels take both their vectorized path (16 values per iteration)
and their scalar tail.
"""
import math
import platform
import re
import sys

import numpy as np
import torch

N = 19
STEPS = 25


def problem():
    """Deterministic A (symmetric positive definite), c, q and w0 from a small LCG."""
    state = [12345]

    def rnd():  # uniform in [-1, 1), 24 random bits: exact in float32 and double
        state[0] = (1103515245 * state[0] + 12345) % (1 << 31)
        return (state[0] >> 7) / float(1 << 23) - 1.0

    m = [[rnd() for _ in range(N)] for _ in range(N)]
    a = [[0.0] * N for _ in range(N)]
    for i in range(N):
        for j in range(N):
            s = 0.0
            for k in range(N):
                s += m[k][i] * m[k][j]
            a[i][j] = s / N
    for i in range(N):
        a[i][i] += 0.05 * (i + 1)  # eigenvalues from about 0.05 to about 4
    for i in range(N):  # exactly symmetric
        for j in range(i):
            a[i][j] = a[j][i]
    c = [0.5 * rnd() for _ in range(N)]
    w0 = [float(np.float32(1.5 * rnd())) for _ in range(N)]
    return a, c, 0.0625, w0


A, C, Q, W0 = problem()


def gradient(w):
    """w: float32 values as Python floats. Returns the float32 gradient as Python floats."""
    d = [w[j] - C[j] for j in range(N)]
    g = []
    for i in range(N):
        s = 0.0
        row = A[i]
        for j in range(N):
            s += row[j] * d[j]
        s += Q * (d[i] * d[i] * d[i])
        g.append(float(np.float32(s)))
    return g


def run_torch(make, steps):
    p = torch.nn.Parameter(torch.tensor(W0, dtype=torch.float32))
    opt = make([p])
    out = []
    for _ in range(steps):
        w = p.detach().tolist()
        p.grad = torch.tensor(gradient(w), dtype=torch.float32)
        opt.step()
        out.append(p.detach().tolist())
    return out


def f32(x):
    """Round a double to float32. For +, -, *, / of two float32 values the double result
    rounded once more to float32 equals the float32 operation (53 >= 2*24 + 2)."""
    return float(np.float32(x))


def quickprop(lr, mu, decay, steps):
    """FANN's fann_update_weights_quickprop for one weight vector, transcribed from its C
    source, float32 after every operation as C's float arithmetic does. FANN's train_slopes
    is the negative gradient; FANN compares prev_step with the double 0.001 and slope with
    0.0 (double), shrink_factor = (float)(mu / (1.0 + mu)) with float mu. Where the slope
    is 0 the quadratic term 0*x/0 would be NaN in FANN when the previous slope was 0 too;
    bprun's plugin takes 0 there (documented), and so does this transcription."""
    epsilon, mu, decay = f32(lr), f32(mu), f32(decay)
    shrink = f32(mu / (1.0 + mu))
    w = list(W0)
    prev_steps = [0.0] * N
    prev_slopes = [0.0] * N
    out = []
    for _ in range(steps):
        g = gradient(w)
        for i in range(N):
            wi = w[i]
            prev_step = prev_steps[i]
            slope = f32(-g[i] + f32(decay * wi))
            prev_slope = prev_slopes[i]
            step = 0.0
            if prev_step > 0.001:
                if slope > 0.0:
                    step = f32(step + f32(epsilon * slope))
                if slope > f32(shrink * prev_slope):
                    step = f32(step + f32(mu * prev_step))
                elif slope != 0.0:
                    step = f32(step + f32(f32(prev_step * slope) / f32(prev_slope - slope)))
            elif prev_step < -0.001:
                if slope < 0.0:
                    step = f32(step + f32(epsilon * slope))
                if slope < f32(shrink * prev_slope):
                    step = f32(step + f32(mu * prev_step))
                elif slope != 0.0:
                    step = f32(step + f32(f32(prev_step * slope) / f32(prev_slope - slope)))
            else:
                step = f32(step + f32(epsilon * slope))
            prev_steps[i] = step
            wi = f32(wi + step)
            w[i] = 1500.0 if wi > 1500 else -1500.0 if wi < -1500 else wi
            prev_slopes[i] = slope
        out.append(list(w))
    return out


O = torch.optim
# (case name, plugin, bprun hyperparameters, torch constructor). Hyperparameters not listed
# take the plugin's defaults, which equal torch's (except sgd's lr, always given here).
CASES = [
    ("sgd", "sgd", {"lr": 0.05},
     lambda p: O.SGD(p, lr=0.05, foreach=False)),
    ("sgd_momentum", "sgd", {"lr": 0.02, "momentum": 0.9},
     lambda p: O.SGD(p, lr=0.02, momentum=0.9, foreach=False)),
    ("sgd_dampening_wd", "sgd", {"lr": 0.03, "momentum": 0.8, "dampening": 0.3,
                                 "weight_decay": 0.01},
     lambda p: O.SGD(p, lr=0.03, momentum=0.8, dampening=0.3, weight_decay=0.01,
                     foreach=False)),
    ("sgd_nesterov", "sgd", {"lr": 0.02, "momentum": 0.9, "nesterov": 1, "weight_decay": 0.001},
     lambda p: O.SGD(p, lr=0.02, momentum=0.9, nesterov=True, weight_decay=0.001,
                     foreach=False)),
    ("adam", "adam", {"lr": 0.05},
     lambda p: O.Adam(p, lr=0.05, foreach=False)),
    ("adam_amsgrad_wd", "adam", {"lr": 0.03, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6,
                                 "weight_decay": 0.05, "amsgrad": 1},
     lambda p: O.Adam(p, lr=0.03, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05,
                      amsgrad=True, foreach=False)),
    ("adamw", "adamw", {"lr": 0.05},
     lambda p: O.AdamW(p, lr=0.05, foreach=False)),
    ("adamw_amsgrad", "adamw", {"lr": 0.02, "beta1": 0.85, "beta2": 0.995, "weight_decay": 0.5,
                                "amsgrad": 1},
     lambda p: O.AdamW(p, lr=0.02, betas=(0.85, 0.995), weight_decay=0.5, amsgrad=True,
                       foreach=False)),
    ("adagrad", "adagrad", {"lr": 0.1},
     lambda p: O.Adagrad(p, lr=0.1, foreach=False)),
    ("adagrad_decay_wd_init", "adagrad", {"lr": 0.2, "lr_decay": 0.05, "weight_decay": 0.02,
                                          "initial_accumulator_value": 0.1, "eps": 1e-6},
     lambda p: O.Adagrad(p, lr=0.2, lr_decay=0.05, weight_decay=0.02,
                         initial_accumulator_value=0.1, eps=1e-6, foreach=False)),
    ("rmsprop", "rmsprop", {},
     lambda p: O.RMSprop(p, foreach=False)),
    ("rmsprop_centered_momentum_wd", "rmsprop", {"lr": 0.005, "alpha": 0.9, "eps": 1e-6,
                                                 "weight_decay": 0.01, "momentum": 0.7,
                                                 "centered": 1},
     lambda p: O.RMSprop(p, lr=0.005, alpha=0.9, eps=1e-6, weight_decay=0.01, momentum=0.7,
                         centered=True, foreach=False)),
    ("rmsprop_centered", "rmsprop", {"lr": 0.01, "centered": 1},
     lambda p: O.RMSprop(p, lr=0.01, centered=True, foreach=False)),
    ("rmsprop_momentum", "rmsprop", {"lr": 0.01, "momentum": 0.5},
     lambda p: O.RMSprop(p, lr=0.01, momentum=0.5, foreach=False)),
    ("adadelta", "adadelta", {},
     lambda p: O.Adadelta(p, foreach=False)),
    ("adadelta_rho_wd", "adadelta", {"lr": 0.5, "rho": 0.95, "eps": 1e-4, "weight_decay": 0.1},
     lambda p: O.Adadelta(p, lr=0.5, rho=0.95, eps=1e-4, weight_decay=0.1, foreach=False)),
    ("rprop", "rprop", {},
     lambda p: O.Rprop(p, foreach=False)),
    ("rprop_custom", "rprop", {"lr": 0.05, "eta_minus": 0.3, "eta_plus": 1.5,
                               "step_size_min": 0.001, "step_size_max": 0.2},
     lambda p: O.Rprop(p, lr=0.05, etas=(0.3, 1.5), step_sizes=(0.001, 0.2), foreach=False)),
]

QUICKPROP_CASES = [
    ("quickprop", {"lr": 0.1}, (0.1, 1.75, -0.0001)),
    ("quickprop_mu_decay", {"lr": 0.05, "mu": 1.2, "decay": -0.01}, (0.05, 1.2, -0.01)),
]


def hexf(x):
    """C99 hex float without the trailing zeros of the mantissa: 0x1.8p+1, 0x0p+0."""
    return re.sub(r"\.?0*p", "p", float(x).hex())


def main():
    w = sys.stdout.write
    w("# bprun optimizer conformance reference, written by tests/conformance/make_reference.py\n")
    w("# torch %s, numpy %s, python %s (%s)\n" % (torch.__version__, np.__version__,
                                                 platform.python_version(), platform.machine()))
    w("# torch CPU: %s\n" % " ".join(
        line.strip() for line in torch.__config__.show().splitlines()
        if "CPU capability" in line))
    w("# Numbers are C99 hex floats. Format: n N / q Q / c ... / a ROW (N lines) / w0 ...;\n")
    w("# then per case: case NAME PLUGIN STEPS / hp NAME VALUE ... / w T VALUES (T = 1..STEPS).\n")
    w("n %d\n" % N)
    w("q %s\n" % hexf(Q))
    w("c %s\n" % " ".join(hexf(x) for x in C))
    for row in A:
        w("a %s\n" % " ".join(hexf(x) for x in row))
    w("w0 %s\n" % " ".join(hexf(x) for x in W0))
    runs = [(name, plugin, hp, run_torch(make, STEPS)) for name, plugin, hp, make in CASES]
    runs += [(name, "quickprop", hp, quickprop(*args, STEPS)) for name, hp, args in QUICKPROP_CASES]
    for name, plugin, hp, traj in runs:
        for t, ws in enumerate(traj):
            if not all(math.isfinite(x) for x in ws):
                sys.exit("%s: non-finite parameter at step %d" % (name, t + 1))
        w("case %s %s %d\n" % (name, plugin, len(traj)))
        w("hp%s\n" % "".join(" %s %r" % (k, float(v)) for k, v in hp.items()))
        for t, ws in enumerate(traj):
            w("w %d %s\n" % (t + 1, " ".join(hexf(x) for x in ws)))


if __name__ == "__main__":
    main()
