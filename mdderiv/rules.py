r"""Every rule the engine may cite, in one place.

A rule is data: an id, its name and its statement (LaTeX) in each language.
The calculus cites rules by their ``RuleId``; the renderers print the name beside the step
(and the JSON carries the English name).  Adding a rule is one entry here plus
the rewrite that uses it in ``mdderiv.calculus``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RuleId(StrEnum):
    """The rules the engine may cite.  The calculus cites ``RuleId`` members,
    never plain strings, so a citation without an entry below cannot be
    written (and ``tests/test_rules.py`` checks every member has its words)."""

    OBJECTIVE = "objective"
    DEFINITION = "definition"
    NAME_LAYER = "name_layer"
    SUBSTITUTE_NAMES = "substitute_names"
    NORM_INNER = "norm_inner"
    NORM_FROBENIUS = "norm_frobenius"
    NORM_POWER = "norm_power"
    NORM_NUCLEAR = "norm_nuclear"
    FULL_COLUMN_RANK = "full_column_rank"
    FULL_ROW_RANK = "full_row_rank"
    LOG_SOFTMAX = "log_softmax"
    ONE_HOT = "one_hot"
    DISTRIBUTE = "distribute"
    CONSTANT = "constant"
    SUM_RULE = "sum_rule"
    PRODUCT_RULE = "product_rule"
    TRANSPOSE_RULE = "transpose_rule"
    TRACE_RULE = "trace_rule"
    INVERSE_RULE = "inverse_rule"
    DET_RULE = "det_rule"
    LOGDET_RULE = "logdet_rule"
    HADAMARD_RULE = "hadamard_rule"
    HADAMARD_DIV_RULE = "hadamard_div_rule"
    KRON_RULE = "kron_rule"
    ELEMENTWISE_RULE = "elementwise_rule"
    LOG_SIGMOID_RULE = "log_sigmoid_rule"
    SCALAR_CHAIN = "scalar_chain"
    POWER_RULE = "power_rule"
    MATRIX_POWER_RULE = "matrix_power_rule"
    SOFTMAX_RULE = "softmax_rule"
    MATRIX_FUNCTION_RULE = "matrix_function_rule"
    COMMUTING_FACTOR = "commuting_factor"
    READING_MATRIX_FUNCTION = "reading_matrix_function"
    READING_ELEMENTWISE = "reading_elementwise"
    READING_BROADCAST = "reading_broadcast"
    READING_NUMBER_IDENTITY = "reading_number_identity"
    READING_DIMENSION = "reading_dimension"
    READING_DIMENSION_PRODUCT = "reading_dimension_product"
    POWER_BY_EXPRESSION = "power_by_expression"
    LINEAR_RULE = "linear_rule"
    CHAIN_RULE = "chain_rule"
    TRACE_SCALAR = "trace_scalar"
    TRACE_LINEAR = "trace_linear"
    TRACE_TRANSPOSE = "trace_transpose"
    TRACE_CYCLIC = "trace_cyclic"
    TRACE_HADAMARD = "trace_hadamard"
    TRACE_SCALAR_FACTOR = "trace_scalar_factor"
    SCALAR_COMMUTE = "scalar_commute"
    TRACE_SUM = "trace_sum"
    SCALAR_TRANSPOSE = "scalar_transpose"
    COLLECT = "collect"
    READ_OFF = "read_off"
    READ_OFF_SCALAR = "read_off_scalar"
    TRANSPOSE_PRODUCT = "transpose_product"
    SYMMETRIC = "symmetric"
    SOFTMAX_DEFINITION = "softmax_definition"
    SIGMOID_DEFINITION = "sigmoid_definition"
    SIMPLIFY = "simplify"
    SUBSTITUTE = "substitute"
    EXPAND_NAMES = "expand_names"
    LAYOUT_NUMERATOR = "layout_numerator"
    VEC_PRODUCT = "vec_product"
    VEC_INNER = "vec_inner"
    TRACE_KRON = "trace_kron"
    VEC_TRANSPOSE = "vec_transpose"
    VEC_HADAMARD = "vec_hadamard"
    DIAG_TIMES_VECTOR = "diag_times_vector"
    READ_OFF_DERIVATIVE = "read_off_derivative"
    READ_OFF_JACOBIAN = "read_off_jacobian"
    SECOND_DIFFERENTIAL = "second_differential"
    READ_OFF_HESSIAN = "read_off_hessian"
    HESSIAN_ZERO = "hessian_zero"
    STATIONARY = "stationary"
    MULTIPLY_SIDES = "multiply_sides"
    SOLVE_LINEAR = "solve_linear"
    SYM_GRADIENT = "sym_gradient"
    COSH_RULE = "cosh_rule"
    SINH_RULE = "sinh_rule"
    TAN_RULE = "tan_rule"
    ARCTAN_RULE = "arctan_rule"
    SOFTPLUS_RULE = "softplus_rule"
    RELU_RULE = "relu_rule"
    NORM_L1 = "norm_l1"
    ABS_RULE = "abs_rule"
    LOGDET_EXP = "logdet_exp"
    DET_EXP = "det_exp"


@dataclass(frozen=True)
class Rule:
    id: RuleId
    en: str  # short name, shown beside a step
    zh: str
    formula: str  # the identity, as LaTeX (used in docs and long justifications)

    def name(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en


_RULES = [
    # the objective and rewrites before differentiating
    Rule(RuleId.OBJECTIVE, "objective", "目标函数", r"f"),
    Rule(RuleId.DEFINITION, "definition", "定义", r"Y = g(X)"),
    Rule(RuleId.NAME_LAYER, "name an intermediate result", "定义中间变量",
         r"\mathbf{a}_1 = W_1\mathbf{x},\ \mathbf{h}_1 = \sigma(\mathbf{a}_1)"),
    Rule(RuleId.SUBSTITUTE_NAMES, "the objective in the names", "用中间变量写出目标函数",
         r"f = g(\mathbf{a}_2)"),
    Rule(RuleId.NORM_INNER, "squared norm as inner product", "模平方写成内积", r"\|x\|^2 = x^T x"),
    Rule(RuleId.NORM_FROBENIUS, "Frobenius norm as trace", "F 范数写成迹", r"\|X\|_F^2 = \operatorname{tr}(X^T X)"),
    Rule(RuleId.NORM_L1, "1-norm as a sum of absolute values", "1-范数写成绝对值之和",
         r"\|x\|_1 = \mathbf{1}^T |x|"),
    Rule(RuleId.NORM_POWER, "norm as a power of the inner product", "范数写成内积的幂", r"\|x\| = (x^T x)^{1/2}"),
    # the sum of the singular values σ_i = √λ_i(XᵀX); where X has full rank the
    # Gram matrix is invertible and (XᵀX)^{-1/2}, the gradient's factor, exists
    Rule(RuleId.NORM_NUCLEAR, "nuclear norm as the trace of a matrix square root", "核范数写成矩阵平方根的迹",
         r"\|X\|_* = \sum_i \sigma_i(X) = \operatorname{tr}\left((X^T X)^{1/2}\right)"),
    Rule(RuleId.FULL_COLUMN_RANK, "differentiable where the matrix has full column rank (its Gram matrix invertible)",
         "在矩阵列满秩（其 Gram 矩阵可逆）处可微", r"\operatorname{rank}X = n \le m"),
    Rule(RuleId.FULL_ROW_RANK, "differentiable where the matrix has full row rank (its Gram matrix invertible)",
         "在矩阵行满秩（其 Gram 矩阵可逆）处可微", r"\operatorname{rank}X = m \le n"),
    Rule(RuleId.LOG_SOFTMAX, "log-softmax rewrite", "log-softmax 展开",
         r"\log\operatorname{softmax}(a) = a - \mathbf{1}\log(\mathbf{1}^T\exp(a))"),
    Rule(RuleId.ONE_HOT, "one-hot: 1ᵀy = 1", "one-hot 向量：1ᵀy = 1", r"\mathbf{1}^T y = 1"),
    Rule(RuleId.DISTRIBUTE, "distribute", "展开", r"A(B + C) = AB + AC"),
    # differentials
    Rule(RuleId.CONSTANT, "constants have zero differential", "常量的微分为零", r"dA = 0"),
    Rule(RuleId.SUM_RULE, "sum rule", "加减法", r"d(X \pm Y) = dX \pm dY"),
    Rule(RuleId.PRODUCT_RULE, "product rule", "乘法法则", r"d(XY) = (dX)Y + X\,dY"),
    Rule(RuleId.TRANSPOSE_RULE, "transpose rule", "转置法则", r"d(X^T) = (dX)^T"),
    Rule(RuleId.TRACE_RULE, "trace rule", "迹的微分", r"d\operatorname{tr}(X) = \operatorname{tr}(dX)"),
    Rule(RuleId.INVERSE_RULE, "inverse rule", "逆矩阵的微分", r"dX^{-1} = -X^{-1}\,dX\,X^{-1}"),
    Rule(RuleId.DET_RULE, "determinant rule", "行列式的微分", r"d|X| = |X|\operatorname{tr}(X^{-1}dX)"),
    Rule(RuleId.LOGDET_RULE, "log-determinant rule", "对数行列式的微分", r"d\log|X| = \operatorname{tr}(X^{-1}dX)"),
    Rule(RuleId.HADAMARD_RULE, "Hadamard product rule", "逐元素乘法法则", r"d(X \odot Y) = dX \odot Y + X \odot dY"),
    Rule(RuleId.HADAMARD_DIV_RULE, "elementwise division rule", "逐元素除法法则",
         r"d(X \oslash Y) = dX \oslash Y - (X \odot dY) \oslash (Y \odot Y)"),
    Rule(RuleId.KRON_RULE, "Kronecker product rule", "Kronecker 积的微分", r"d(X \otimes Y) = dX \otimes Y + X \otimes dY"),
    Rule(RuleId.ELEMENTWISE_RULE, "elementwise function rule", "逐元素函数法则", r"d\sigma(X) = \sigma'(X) \odot dX"),
    Rule(RuleId.LOG_SIGMOID_RULE, "log-sigmoid rule", "log-sigmoid 的微分",
         r"d\log\sigma(u) = (1 - \sigma(u))\,du"),
    Rule(RuleId.COSH_RULE, "derivative of cosh", "cosh 的导数", r"d\cosh(u) = \sinh(u)\,du"),
    Rule(RuleId.SINH_RULE, "derivative of sinh", "sinh 的导数", r"d\sinh(u) = \cosh(u)\,du"),
    Rule(RuleId.TAN_RULE, "derivative of tan", "tan 的导数", r"d\tan(u) = \frac{du}{\cos^2(u)}"),
    Rule(RuleId.ARCTAN_RULE, "derivative of arctan", "arctan 的导数", r"d\arctan(u) = \frac{du}{1 + u^2}"),
    Rule(RuleId.SOFTPLUS_RULE, "softplus rule", "softplus 的微分",
         r"d\log(1 + e^{u}) = d\operatorname{softplus}(u) = \sigma(u)\,du"),
    Rule(RuleId.RELU_RULE, "ReLU rule", "ReLU 的微分",
         r"d\max(0, u) = \mathbb{I}(u > 0)\,du"),
    Rule(RuleId.ABS_RULE, "derivative of the absolute value", "绝对值的导数",
         r"d|u| = \operatorname{sign}(u)\,du"),
    Rule(RuleId.SCALAR_CHAIN, "chain rule for a scalar function", "标量函数的链式法则", r"d\,g(s) = g'(s)\,ds"),
    Rule(RuleId.POWER_RULE, "power rule", "幂法则", r"d(s^p) = p\,s^{p-1}\,ds"),
    Rule(RuleId.MATRIX_POWER_RULE, "matrix power rule", "矩阵幂的微分", r"d(X^k) = \sum_{j} X^{j}\,dX\,X^{k-1-j}"),
    Rule(RuleId.SOFTMAX_RULE, "softmax rule", "softmax 的微分",
         r"d\operatorname{softmax}(a) = (\operatorname{diag}(s) - s s^T)\,da"),
    Rule(RuleId.MATRIX_FUNCTION_RULE, "trace of a matrix function", "矩阵函数之迹的微分",
         r"d\operatorname{tr} f(X) = \operatorname{tr}(f'(X)\,dX)"),
    Rule(RuleId.COMMUTING_FACTOR, "f(X) commutes with X", "f(X) 与 X 可交换",
         r"G = g(X):\ \operatorname{tr}(G\,d f(X)) = \operatorname{tr}(G f'(X)\,dX)"),
    Rule(RuleId.READING_MATRIX_FUNCTION, "a function of a square matrix read as the matrix function",
         "方阵的函数按矩阵函数理解",
         r"e^{X} = \sum_{k \ge 0} \frac{X^k}{k!},\ \log\det X = \operatorname{tr}\log X"),
    Rule(RuleId.READING_ELEMENTWISE, "functions of a square matrix read entry by entry", "方阵上的函数按逐元素理解",
         r"f(X)_{ij} = f(X_{ij})"),
    Rule(RuleId.READING_BROADCAST, "a number added to a vector or matrix inside an entrywise function read as that number times all ones",
         "逐元素函数内与向量或矩阵相加的数按该数乘全一向量（矩阵）理解（广播）", r"1 + \mathbf{v} = \mathbf{1} + \mathbf{v}"),
    Rule(RuleId.READING_NUMBER_IDENTITY,
         "a number added to a square matrix inside a matrix function read as that number times I",
         "矩阵函数内与方阵相加的数按该数乘单位矩阵理解", r"\log(1 + e^{X}) = \log(I + e^{X})"),
    Rule(RuleId.READING_DIMENSION, "a dimension name used as a number read as that size",
         "作为数使用的维度名按该维度的大小理解", r"\Sigma \in \mathbb{R}^{n \times n}:\ \tfrac{n}{2} = \tfrac{1}{2}\cdot n"),
    Rule(RuleId.READING_DIMENSION_PRODUCT, "a dimension name made of dimension names read as their product",
         "由维度名拼成的维度名按它们的乘积理解", r"\mathbb{R}^{mn} = \mathbb{R}^{m \cdot n}"),
    Rule(RuleId.POWER_BY_EXPRESSION, "a power with a symbol in the exponent, by exp and log",
         "指数含符号的幂写成 exp 与 log", r"s^{e} = \exp(e \log s),\ s > 0"),
    Rule(RuleId.LINEAR_RULE, "linearity of diag, vec and sums", "diag、vec 与求和的线性", r"d\operatorname{vec}(X) = \operatorname{vec}(dX)"),
    Rule(RuleId.CHAIN_RULE, "composition through the differential", "复合法则",
         r"df = \operatorname{tr}\left(\frac{\partial f}{\partial Y}^T dY\right)"),
    # trace tricks
    Rule(RuleId.TRACE_SCALAR, "a scalar is its own trace", "标量套上迹", r"a = \operatorname{tr}(a)"),
    Rule(RuleId.TRACE_LINEAR, "linearity of the trace", "迹的线性", r"\operatorname{tr}(A \pm B) = \operatorname{tr}(A) \pm \operatorname{tr}(B)"),
    Rule(RuleId.TRACE_TRANSPOSE, "trace of a transpose", "转置的迹", r"\operatorname{tr}(A^T) = \operatorname{tr}(A)"),
    Rule(RuleId.TRACE_CYCLIC, "cyclic property of the trace", "矩阵乘法交换", r"\operatorname{tr}(AB) = \operatorname{tr}(BA)"),
    Rule(RuleId.TRACE_HADAMARD, "trace of a Hadamard product", "矩阵乘法/逐元素乘法交换",
         r"\operatorname{tr}(A^T(B \odot C)) = \operatorname{tr}((A \odot B)^T C)"),
    Rule(RuleId.TRACE_SCALAR_FACTOR, "a scalar factor leaves the trace", "标量因子提到迹外",
         r"\operatorname{tr}(A\,dt\,B) = \operatorname{tr}(AB)\,dt"),
    Rule(RuleId.SCALAR_COMMUTE, "a scalar factor commutes", "标量因子可交换", r"A\,dt\,B = AB\,dt"),
    Rule(RuleId.TRACE_SUM, "trace and sum commute", "迹与求和交换", r"\operatorname{tr}\sum_i A_i = \sum_i \operatorname{tr}A_i"),
    Rule(RuleId.SCALAR_TRANSPOSE, "a scalar equals its transpose", "标量的转置等于自身", r"a = a^T"),
    Rule(RuleId.COLLECT, "collect the terms", "合并各项", r"\operatorname{tr}(A\,dX) + \operatorname{tr}(B\,dX) = \operatorname{tr}((A+B)\,dX)"),
    Rule(RuleId.READ_OFF, "read off the gradient", "对照导数与微分的联系",
         r"df = \operatorname{tr}\left(\frac{\partial f}{\partial X}^T dX\right)"),
    Rule(RuleId.READ_OFF_SCALAR, "read off the derivative by a scalar", "对照标量的导数",
         r"df = f'(t)\,dt"),
    # simplification
    Rule(RuleId.TRANSPOSE_PRODUCT, "transpose of a product", "乘积的转置", r"(AB)^T = B^T A^T"),
    Rule(RuleId.SYMMETRIC, "symmetric matrix", "对称矩阵", r"M^T = M"),
    Rule(RuleId.SOFTMAX_DEFINITION, "definition of softmax", "softmax 的定义",
         r"\frac{\exp(a)}{\mathbf{1}^T\exp(a)} = \operatorname{softmax}(a)"),
    Rule(RuleId.SIGMOID_DEFINITION, "definition of the sigmoid", "sigmoid 的定义",
         r"\frac{\exp(u)}{1 + \exp(u)} = \frac{1}{1 + \exp(-u)} = \sigma(u)"),
    Rule(RuleId.SIMPLIFY, "simplify", "化简", r"AB + AC = A(B + C)"),
    Rule(RuleId.SUBSTITUTE, "substitute", "代入", r"Y = g(X)"),
    Rule(RuleId.EXPAND_NAMES, "write out the names", "代回中间变量的定义", r"\mathbf{a}_1 = W_1\mathbf{x}"),
    Rule(RuleId.LAYOUT_NUMERATOR, "numerator layout: the transpose", "分子布局：转置",
         r"\frac{\partial f}{\partial X^T} = \left(\frac{\partial f}{\partial X}\right)^T"),
    # matrix-by-matrix, Hessians, stationary points
    Rule(RuleId.VEC_PRODUCT, "vec of a product", "矩阵乘积的向量化", r"\operatorname{vec}(AXB) = (B^T \otimes A)\operatorname{vec}(X)"),
    Rule(RuleId.VEC_INNER, "inner product of two vecs", "向量化的内积",
         r"\operatorname{vec}(A)^T\operatorname{vec}(B) = \operatorname{tr}(A^T B),\ "
         r"\mathbf{p}^T\operatorname{vec}(B) = \operatorname{tr}(\operatorname{vec}^{-1}(\mathbf{p})^T B)"),
    Rule(RuleId.TRACE_KRON, "trace of a Kronecker product", "Kronecker 积的迹",
         r"\operatorname{tr}(A \otimes B) = \operatorname{tr}(A)\operatorname{tr}(B)"),
    Rule(RuleId.LOGDET_EXP, "log-determinant of a matrix exponential", "矩阵指数的对数行列式",
         r"\log\det e^{X} = \operatorname{tr}X"),
    Rule(RuleId.DET_EXP, "determinant of a matrix exponential", "矩阵指数的行列式",
         r"\det e^{X} = e^{\operatorname{tr}X}"),
    Rule(RuleId.VEC_TRANSPOSE, "commutation matrix", "交换矩阵", r"\operatorname{vec}(X^T) = K\operatorname{vec}(X)"),
    Rule(RuleId.VEC_HADAMARD, "vec of a Hadamard product", "逐元素乘法的向量化",
         r"\operatorname{vec}(A \odot X) = \operatorname{diag}(\operatorname{vec}A)\operatorname{vec}(X)"),
    Rule(RuleId.DIAG_TIMES_VECTOR, "a diagonal matrix times a vector", "对角矩阵乘向量",
         r"\operatorname{diag}(\mathbf{u})\,\mathbf{w} = \mathbf{u} \odot \mathbf{w} = \operatorname{diag}(\mathbf{w})\,\mathbf{u}"),
    Rule(RuleId.READ_OFF_DERIVATIVE, "read off the derivative", "对照导数与微分的联系",
         r"\operatorname{vec}(dF) = \frac{\partial F}{\partial X}^T \operatorname{vec}(dX)"),
    Rule(RuleId.READ_OFF_JACOBIAN, "read off the Jacobian", "对照雅可比矩阵", r"dF = J\,dx"),
    Rule(RuleId.SECOND_DIFFERENTIAL, "second differential", "二阶微分", r"d^2 f = d(df)"),
    Rule(RuleId.READ_OFF_HESSIAN, "read off the Hessian", "对照 Hessian",
         r"d^2 f = \operatorname{vec}(dX)^T H \operatorname{vec}(dX)"),
    Rule(RuleId.HESSIAN_ZERO, "the gradient does not depend on the variable: the Hessian is zero",
         "梯度与该变量无关：Hessian 为零", r"d\left(\frac{\partial f}{\partial X}\right) = 0"),
    Rule(RuleId.STATIONARY, "set the gradient to zero", "令导数为零", r"\frac{\partial f}{\partial X} = 0"),
    Rule(RuleId.MULTIPLY_SIDES, "multiply both sides by the variable", "两边同乘变量", r"X G X = 0"),
    Rule(RuleId.SOLVE_LINEAR, "solve the linear equation", "解线性方程", r"Ax = b \Rightarrow x = A^{-1}b"),
    Rule(RuleId.SYM_GRADIENT, "gradient on symmetric matrices", "对称矩阵上的梯度",
         r"\operatorname{sym}(G) = \tfrac{1}{2}(G + G^T)"),
]

RULES: dict[RuleId, Rule] = {rule.id: rule for rule in _RULES}


def rule(rule_id: RuleId) -> Rule:
    return RULES[rule_id]
