r"""Every rule the engine may cite, in one place.

A rule is data: an id, its name and its statement (LaTeX) in each language.
The calculus cites rules by id; the renderers print the name beside the step
(and the JSON carries the English name).  Adding a rule is one entry here plus
the rewrite that uses it in ``mdderiv.calculus``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    en: str  # short name, shown beside a step
    zh: str
    formula: str  # the identity, as LaTeX (used in docs and long justifications)

    def name(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en


_RULES = [
    # the objective and rewrites before differentiating
    Rule("objective", "objective", "目标函数", r"f"),
    Rule("definition", "definition", "定义", r"Y = g(X)"),
    Rule("name_layer", "name an intermediate result", "定义中间变量",
         r"\mathbf{a}_1 = W_1\mathbf{x},\ \mathbf{h}_1 = \sigma(\mathbf{a}_1)"),
    Rule("substitute_names", "the objective in the names", "用中间变量写出目标函数",
         r"f = g(\mathbf{a}_2)"),
    Rule("norm_inner", "squared norm as inner product", "模平方写成内积", r"\|x\|^2 = x^T x"),
    Rule("norm_frobenius", "Frobenius norm as trace", "F 范数写成迹", r"\|X\|_F^2 = \operatorname{tr}(X^T X)"),
    Rule("norm_power", "norm as a power of the inner product", "范数写成内积的幂", r"\|x\| = (x^T x)^{1/2}"),
    Rule("log_softmax", "log-softmax rewrite", "log-softmax 展开",
         r"\log\operatorname{softmax}(a) = a - \mathbf{1}\log(\mathbf{1}^T\exp(a))"),
    Rule("one_hot", "one-hot: 1ᵀy = 1", "one-hot 向量：1ᵀy = 1", r"\mathbf{1}^T y = 1"),
    Rule("distribute", "distribute", "展开", r"A(B + C) = AB + AC"),
    # differentials
    Rule("constant", "constants have zero differential", "常量的微分为零", r"dA = 0"),
    Rule("sum_rule", "sum rule", "加减法", r"d(X \pm Y) = dX \pm dY"),
    Rule("product_rule", "product rule", "乘法法则", r"d(XY) = (dX)Y + X\,dY"),
    Rule("transpose_rule", "transpose rule", "转置法则", r"d(X^T) = (dX)^T"),
    Rule("trace_rule", "trace rule", "迹的微分", r"d\operatorname{tr}(X) = \operatorname{tr}(dX)"),
    Rule("inverse_rule", "inverse rule", "逆矩阵的微分", r"dX^{-1} = -X^{-1}\,dX\,X^{-1}"),
    Rule("det_rule", "determinant rule", "行列式的微分", r"d|X| = |X|\operatorname{tr}(X^{-1}dX)"),
    Rule("logdet_rule", "log-determinant rule", "对数行列式的微分", r"d\log|X| = \operatorname{tr}(X^{-1}dX)"),
    Rule("hadamard_rule", "Hadamard product rule", "逐元素乘法法则", r"d(X \odot Y) = dX \odot Y + X \odot dY"),
    Rule("hadamard_div_rule", "elementwise division rule", "逐元素除法法则",
         r"d(X \oslash Y) = dX \oslash Y - (X \odot dY) \oslash (Y \odot Y)"),
    Rule("kron_rule", "Kronecker product rule", "Kronecker 积的微分", r"d(X \otimes Y) = dX \otimes Y + X \otimes dY"),
    Rule("elementwise_rule", "elementwise function rule", "逐元素函数法则", r"d\sigma(X) = \sigma'(X) \odot dX"),
    Rule("log_sigmoid_rule", "log-sigmoid rule", "log-sigmoid 的微分",
         r"d\log\sigma(u) = (1 - \sigma(u))\,du"),
    Rule("scalar_chain", "chain rule for a scalar function", "标量函数的链式法则", r"d\,g(s) = g'(s)\,ds"),
    Rule("power_rule", "power rule", "幂法则", r"d(s^p) = p\,s^{p-1}\,ds"),
    Rule("matrix_power_rule", "matrix power rule", "矩阵幂的微分", r"d(X^k) = \sum_{j} X^{j}\,dX\,X^{k-1-j}"),
    Rule("softmax_rule", "softmax rule", "softmax 的微分",
         r"d\operatorname{softmax}(a) = (\operatorname{diag}(s) - s s^T)\,da"),
    Rule("matrix_function_rule", "trace of a matrix function", "矩阵函数之迹的微分",
         r"d\operatorname{tr} f(X) = \operatorname{tr}(f'(X)\,dX)"),
    Rule("reading_matrix_function", "exp, log, √ of a square matrix read as matrix functions",
         "方阵的 exp、log、√ 按矩阵函数理解",
         r"e^{X} = \sum_{k \ge 0} \frac{X^k}{k!},\ \log\det X = \operatorname{tr}\log X"),
    Rule("reading_elementwise", "functions of a square matrix read entry by entry", "方阵上的函数按逐元素理解",
         r"f(X)_{ij} = f(X_{ij})"),
    Rule("linear_rule", "linearity of diag, vec and sums", "diag、vec 与求和的线性", r"d\operatorname{vec}(X) = \operatorname{vec}(dX)"),
    Rule("chain_rule", "composition through the differential", "复合法则",
         r"df = \operatorname{tr}\left(\frac{\partial f}{\partial Y}^T dY\right)"),
    # trace tricks
    Rule("trace_scalar", "a scalar is its own trace", "标量套上迹", r"a = \operatorname{tr}(a)"),
    Rule("trace_linear", "linearity of the trace", "迹的线性", r"\operatorname{tr}(A \pm B) = \operatorname{tr}(A) \pm \operatorname{tr}(B)"),
    Rule("trace_transpose", "trace of a transpose", "转置的迹", r"\operatorname{tr}(A^T) = \operatorname{tr}(A)"),
    Rule("trace_cyclic", "cyclic property of the trace", "矩阵乘法交换", r"\operatorname{tr}(AB) = \operatorname{tr}(BA)"),
    Rule("trace_hadamard", "trace of a Hadamard product", "矩阵乘法/逐元素乘法交换",
         r"\operatorname{tr}(A^T(B \odot C)) = \operatorname{tr}((A \odot B)^T C)"),
    Rule("trace_sum", "trace and sum commute", "迹与求和交换", r"\operatorname{tr}\sum_i A_i = \sum_i \operatorname{tr}A_i"),
    Rule("scalar_transpose", "a scalar equals its transpose", "标量的转置等于自身", r"a = a^T"),
    Rule("collect", "collect the terms", "合并各项", r"\operatorname{tr}(A\,dX) + \operatorname{tr}(B\,dX) = \operatorname{tr}((A+B)\,dX)"),
    Rule("read_off", "read off the gradient", "对照导数与微分的联系",
         r"df = \operatorname{tr}\left(\frac{\partial f}{\partial X}^T dX\right)"),
    # simplification
    Rule("transpose_product", "transpose of a product", "乘积的转置", r"(AB)^T = B^T A^T"),
    Rule("symmetric", "symmetric matrix", "对称矩阵", r"M^T = M"),
    Rule("softmax_definition", "definition of softmax", "softmax 的定义",
         r"\frac{\exp(a)}{\mathbf{1}^T\exp(a)} = \operatorname{softmax}(a)"),
    Rule("sigmoid_definition", "definition of the sigmoid", "sigmoid 的定义",
         r"\frac{\exp(u)}{1 + \exp(u)} = \frac{1}{1 + \exp(-u)} = \sigma(u)"),
    Rule("simplify", "simplify", "化简", r"AB + AC = A(B + C)"),
    Rule("substitute", "substitute", "代入", r"Y = g(X)"),
    Rule("expand_names", "write out the names", "代回中间变量的定义", r"\mathbf{a}_1 = W_1\mathbf{x}"),
    Rule("layout_numerator", "numerator layout: the transpose", "分子布局：转置",
         r"\frac{\partial f}{\partial X^T} = \left(\frac{\partial f}{\partial X}\right)^T"),
    # matrix-by-matrix, Hessians, stationary points
    Rule("vec_product", "vec of a product", "矩阵乘积的向量化", r"\operatorname{vec}(AXB) = (B^T \otimes A)\operatorname{vec}(X)"),
    Rule("vec_inner", "inner product of two vecs", "向量化的内积",
         r"\operatorname{vec}(A)^T\operatorname{vec}(B) = \operatorname{tr}(A^T B)"),
    Rule("trace_kron", "trace of a Kronecker product", "Kronecker 积的迹",
         r"\operatorname{tr}(A \otimes B) = \operatorname{tr}(A)\operatorname{tr}(B)"),
    Rule("vec_transpose", "commutation matrix", "交换矩阵", r"\operatorname{vec}(X^T) = K\operatorname{vec}(X)"),
    Rule("vec_hadamard", "vec of a Hadamard product", "逐元素乘法的向量化",
         r"\operatorname{vec}(A \odot X) = \operatorname{diag}(\operatorname{vec}A)\operatorname{vec}(X)"),
    Rule("read_off_derivative", "read off the derivative", "对照导数与微分的联系",
         r"\operatorname{vec}(dF) = \frac{\partial F}{\partial X}^T \operatorname{vec}(dX)"),
    Rule("read_off_jacobian", "read off the Jacobian", "对照雅可比矩阵", r"dF = J\,dx"),
    Rule("second_differential", "second differential", "二阶微分", r"d^2 f = d(df)"),
    Rule("read_off_hessian", "read off the Hessian", "对照 Hessian",
         r"d^2 f = \operatorname{vec}(dX)^T H \operatorname{vec}(dX)"),
    Rule("stationary", "set the gradient to zero", "令导数为零", r"\frac{\partial f}{\partial X} = 0"),
    Rule("multiply_sides", "multiply both sides by the variable", "两边同乘变量", r"X G X = 0"),
    Rule("solve_linear", "solve the linear equation", "解线性方程", r"Ax = b \Rightarrow x = A^{-1}b"),
    Rule("sym_gradient", "gradient on symmetric matrices", "对称矩阵上的梯度",
         r"\operatorname{sym}(G) = \tfrac{1}{2}(G + G^T)"),
]

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}


def rule(rule_id: str) -> Rule:
    return RULES[rule_id]
