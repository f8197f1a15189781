#!/usr/bin/env python3
"""The worked example of docs/BACKPROP.md, computed independently of bprun.

A 2-3-1 sigmoid network, loss mse 1/2 (y - o)^2, one sample x = (0.5, 0.6) with target 1, one
step of plain gradient descent with learning rate 0.5. Plain Python floats (IEEE double), no
bprun code: every formula is written out as in the derivation.

usage: worked_example.py             the numbers, step by step, as pasted into the doc
       worked_example.py --csv       the same numbers in the layout of `bprun trace --format csv`
       worked_example.py --write-h5 FILE
                                     write the data (group /train) and the initial weights
                                     (group /model, docs/FORMAT.md) that
                                     configs/worked-example.yaml reads (needs h5py and numpy)
"""
import math
import sys

X = [0.5, 0.6]                                  # input
Y = [1.0]                                       # target
W1 = [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]       # W1[j][i]: input i -> hidden j
B1 = [0.1, 0.1, 0.1]
W2 = [[0.4, 0.5, 0.6]]                          # W2[k][j]: hidden j -> output k
B2 = [-0.1]
LR = 0.5


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def forward(W1, B1, W2, B2):
    z1 = [sum(W1[j][i] * X[i] for i in range(2)) + B1[j] for j in range(3)]
    a1 = [sigmoid(z) for z in z1]
    z2 = [sum(W2[k][j] * a1[j] for j in range(3)) + B2[k] for k in range(1)]
    a2 = [sigmoid(z) for z in z2]
    loss = sum(0.5 * (Y[k] - a2[k]) ** 2 for k in range(1))
    return z1, a1, z2, a2, loss


def step():
    z1, a1, z2, a2, loss = forward(W1, B1, W2, B2)
    # output error term (mse with sigmoid): delta = (o - y) o (1 - o)
    d2 = [(a2[k] - Y[k]) * a2[k] * (1 - a2[k]) for k in range(1)]
    # hidden: delta_j = (sum_k W2[k][j] delta_k) a_j (1 - a_j)
    d1 = [sum(W2[k][j] * d2[k] for k in range(1)) * a1[j] * (1 - a1[j]) for j in range(3)]
    # gradients: dL/dW[j][i] = delta_j a_i, dL/db_j = delta_j
    g1 = [[d1[j] * X[i] for i in range(2)] for j in range(3)]
    g2 = [[d2[k] * a1[j] for j in range(3)] for k in range(1)]
    # sgd: w <- w - lr g
    W1n = [[W1[j][i] - LR * g1[j][i] for i in range(2)] for j in range(3)]
    B1n = [B1[j] - LR * d1[j] for j in range(3)]
    W2n = [[W2[k][j] - LR * g2[k][j] for j in range(3)] for k in range(1)]
    B2n = [B2[k] - LR * d2[k] for k in range(1)]
    after = forward(W1n, B1n, W2n, B2n)[4]
    return dict(z1=z1, a1=a1, z2=z2, a2=a2, loss=loss, d1=d1, d2=d2, g1=g1, g2=g2, W1n=W1n,
                B1n=B1n, W2n=W2n, B2n=B2n, after=after)


def g(v):
    return "%.6g" % v


def csv(r):
    out = ["section,layer,node,from,z,activation,error_term,gradient,before,update,after",
           "loss,,,,,,,,%s,,%s" % (g(r["loss"]), g(r["after"]))]
    for i in range(2):
        out.append("node,0,%d,,,%s,,,,," % (i, g(X[i])))
    layers = [(1, r["z1"], r["a1"], r["d1"], r["g1"], W1, B1, r["W1n"], r["B1n"], 2),
              (2, r["z2"], r["a2"], r["d2"], r["g2"], W2, B2, r["W2n"], r["B2n"], 3)]
    for l, z, a, d, gw, W, B, Wn, Bn, n_in in layers:
        for j in range(len(z)):
            out.append("node,%d,%d,,%s,%s,%s,%s,%s,%s,%s" % (
                l, j, g(z[j]), g(a[j]), g(d[j]), g(d[j]), g(B[j]), g(Bn[j] - B[j]), g(Bn[j])))
            for i in range(n_in):
                out.append("weight,%d,%d,%d,,,,%s,%s,%s,%s" % (
                    l, j, i, g(gw[j][i]), g(W[j][i]), g(Wn[j][i] - W[j][i]), g(Wn[j][i])))
    out.append("target,2,0,,,%s,,,,," % g(Y[0]))
    return "\n".join(out) + "\n"


def explain(r):
    p = print
    p("forward, hidden layer: z_j = sum_i W1[j][i] x_i + b1_j, a_j = sigmoid(z_j)")
    for j in range(3):
        p("  z1_%d = %g*%g + %g*%g + %g = %s   a1_%d = %s" % (
            j, W1[j][0], X[0], W1[j][1], X[1], B1[j], g(r["z1"][j]), j, g(r["a1"][j])))
    p("forward, output: z2 = sum_j W2[j] a1_j + b2, o = sigmoid(z2)")
    p("  z2 = %s   o = %s   loss = 1/2 (y - o)^2 = %s" % (
        g(r["z2"][0]), g(r["a2"][0]), g(r["loss"])))
    p("output error term: delta2 = (o - y) o (1 - o) = %s" % g(r["d2"][0]))
    p("hidden error terms: delta1_j = W2[j] delta2 a1_j (1 - a1_j)")
    for j in range(3):
        p("  delta1_%d = %s" % (j, g(r["d1"][j])))
    p("gradients: dL/dW2[j] = delta2 a1_j, dL/db2 = delta2; dL/dW1[j][i] = delta1_j x_i")
    for j in range(3):
        p("  dL/dW2[%d] = %s   dL/dW1[%d] = (%s, %s)   dL/db1_%d = %s" % (
            j, g(r["g2"][0][j]), j, g(r["g1"][j][0]), g(r["g1"][j][1]), j, g(r["d1"][j])))
    p("updates (sgd, lr %g): w <- w - lr dL/dw" % LR)
    for j in range(3):
        p("  W1[%d] -> (%s, %s)  b1_%d -> %s   W2[%d] -> %s" % (
            j, g(r["W1n"][j][0]), g(r["W1n"][j][1]), j, g(r["B1n"][j]), j, g(r["W2n"][0][j])))
    p("  b2 -> %s" % g(r["B2n"][0]))
    p("loss after the step: %s" % g(r["after"]))


def write_h5(path):
    import h5py
    import numpy as np
    params = []
    for W, B in ((W1, B1), (W2, B2)):
        for row in W:
            params.extend(row)
        params.extend(B)
    s = h5py.string_dtype("utf-8")
    with h5py.File(path, "w") as f:
        f.attrs["format_version"] = np.int32(1)
        t = f.create_group("train")
        t.create_dataset("X", data=np.array([X], dtype=np.float32))
        t.create_dataset("Y", data=np.array([Y], dtype=np.float32))
        m = f.create_group("model")
        m.attrs["sizes"] = np.array([2, 3, 1], dtype=np.int32)
        m.attrs.create("activations", ["sigmoid", "sigmoid"], dtype=s)
        m.attrs.create("output", "sigmoid", dtype=s)
        m.attrs.create("loss", "mse", dtype=s)
        for l in range(2):
            lg = m.create_group("layer_%d" % l)
            lg.attrs.create("activation", "sigmoid", dtype=s)
            lg.attrs.create("hp_names", np.array([], dtype=object), dtype=s)
            lg.attrs["hp"] = np.array([], dtype=np.float64)
        m.create_dataset("params", data=np.array(params, dtype=np.float32))


def main(argv):
    r = step()
    if argv[1:] == ["--csv"]:
        sys.stdout.write(csv(r))
    elif len(argv) == 3 and argv[1] == "--write-h5":
        write_h5(argv[2])
    elif len(argv) == 1:
        explain(r)
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
