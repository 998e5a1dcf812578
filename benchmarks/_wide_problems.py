"""The wide benchmark of benchmarks/suite.py (``--half dev`` / ``--half heldout``): 24
scikit-learn tuning problems, split once by problem into a development half and a held-out half.

The split was written here before any algorithm was changed against it (#20), and it is not to be
changed: every default is chosen on the development half only, and the held-out half reports how
the choice generalises. Each family of models has problems on both sides. The spaces mix what
users tune: integers, log-scaled floats, fractions near 0 or 1 (logit-like), booleans,
categoricals, a conditional parameter, and dead parameters the model ignores. Every objective is
a 3-fold cross-validated error (1 - accuracy, or 1 - R^2) on a data set that ships with
scikit-learn, so nothing is downloaded; each evaluation takes well under a second on one core.
"""
from __future__ import annotations

import math

from _suite_problems import Problem, _cv

# ("float", name, low, high, log) ("int", name, low, high) ("choice", name, values); see _suite_problems.
BOOL = [True, False]


def _clf(make, data):
    """1 - CV accuracy; a configuration whose fits fail (a diverging network) scores 1."""
    def objective(c):
        try:
            score = _cv(make(c), data)
        except ValueError:
            return 1.0
        return 1.0 - score if math.isfinite(score) else 1.0
    return objective


def _reg(make, data):
    """1 - CV R^2 with R^2 clipped at -1 (a useless model scores 2, a failed fit too), on the
    standardised target, so that every regressor sees the same scale."""
    def objective(c):
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.preprocessing import StandardScaler

        model = TransformedTargetRegressor(regressor=make(c), transformer=StandardScaler())
        try:
            score = _cv(model, data, classification=False)
        except ValueError:
            return 2.0
        return 1.0 - max(score, -1.0) if math.isfinite(score) else 2.0
    return objective


def _tree_clf(c):
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(max_depth=c["max_depth"], min_samples_split=c["min_samples_split"],
                                  min_samples_leaf=c["min_samples_leaf"], max_features=c["max_features"],
                                  criterion=c["criterion"], random_state=0)


def _tree_reg(c):
    from sklearn.tree import DecisionTreeRegressor

    return DecisionTreeRegressor(max_depth=c["max_depth"], min_samples_split=c["min_samples_split"],
                                 min_samples_leaf=c["min_samples_leaf"],
                                 min_weight_fraction_leaf=c["min_weight_fraction_leaf"],
                                 min_impurity_decrease=c["min_impurity_decrease"], random_state=0)


TREE_CLF_SPACE = [("int", "max_depth", 1, 20), ("float", "min_samples_split", 0.01, 0.5, True),
                  ("float", "min_samples_leaf", 0.001, 0.2, True), ("float", "max_features", 0.1, 1.0, False),
                  ("choice", "criterion", ["gini", "entropy"])]
TREE_REG_SPACE = [("int", "max_depth", 1, 15), ("float", "min_samples_split", 0.01, 0.5, False),
                  ("float", "min_samples_leaf", 0.001, 0.2, False), ("float", "min_weight_fraction_leaf", 0.0, 0.5, False),
                  ("float", "min_impurity_decrease", 0.0, 0.5, False)]


def _forest(kind):
    def make(c):
        from sklearn import ensemble

        cls = getattr(ensemble, kind)
        return cls(n_estimators=c["n_estimators"], max_depth=c["max_depth"], max_features=c["max_features"],
                   min_samples_leaf=c["min_samples_leaf"], bootstrap=c["bootstrap"], random_state=0, n_jobs=1)
    return make


FOREST_SPACE = [("int", "n_estimators", 5, 60), ("int", "max_depth", 2, 20), ("float", "max_features", 0.05, 1.0, False),
                ("int", "min_samples_leaf", 1, 20), ("choice", "bootstrap", BOOL)]


def _gb_clf(c):
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(n_estimators=c["n_estimators"], learning_rate=c["learning_rate"],
                                      max_depth=c["max_depth"], subsample=c["subsample"], random_state=0)


def _hgb(kind):
    def make(c):
        from sklearn import ensemble

        return getattr(ensemble, kind)(learning_rate=c["learning_rate"], max_leaf_nodes=c["max_leaf_nodes"],
                                       min_samples_leaf=c["min_samples_leaf"], l2_regularization=c["l2_regularization"],
                                       max_iter=20, early_stopping=False, random_state=0)
    return make


HGB_SPACE = [("float", "learning_rate", 1e-3, 1.0, True), ("int", "max_leaf_nodes", 2, 64),
             ("int", "min_samples_leaf", 1, 60), ("float", "l2_regularization", 1e-6, 10.0, True)]


def _ada(c):
    from sklearn.ensemble import AdaBoostClassifier

    return AdaBoostClassifier(n_estimators=c["n_estimators"], learning_rate=c["learning_rate"], random_state=0)


def _svc(c):
    from sklearn.svm import SVC

    return SVC(C=c["C"], gamma=c["gamma"], kernel=c.get("kernel", "rbf"), degree=c.get("degree", 3),
               coef0=c.get("coef0", 0.0), shrinking=c.get("shrinking", True))


def _svr(c):
    from sklearn.svm import SVR

    return SVR(C=c["C"], epsilon=c["epsilon"], gamma=c["gamma"])


def _kernel_ridge(c):
    from sklearn.kernel_ridge import KernelRidge

    return KernelRidge(alpha=c["alpha"], kernel=c["kernel"], gamma=c["gamma"])


def _knn(kind):
    def make(c):
        from sklearn import neighbors

        return getattr(neighbors, kind)(n_neighbors=c["n_neighbors"], weights=c["weights"], p=c["p"],
                                        leaf_size=c["leaf_size"])
    return make


# leaf_size changes only the search structure, never the predictions: a dead parameter.
KNN_SPACE = [("int", "n_neighbors", 1, 50), ("choice", "weights", ["uniform", "distance"]), ("int", "p", 1, 2),
             ("int", "leaf_size", 10, 60)]


def _mlp(kind, solver):
    def make(c):
        from sklearn import neural_network

        extra = ({"beta_1": c["beta_1"]} if solver == "adam"
                 else {"momentum": c["momentum"], "nesterovs_momentum": c["nesterov"]})
        return getattr(neural_network, kind)(hidden_layer_sizes=(c["hidden"],), alpha=c["alpha"],
                                             learning_rate_init=c["learning_rate_init"], batch_size=c["batch_size"],
                                             solver=solver, max_iter=30, random_state=0, **extra)
    return make


MLP_COMMON = [("int", "hidden", 8, 128), ("float", "alpha", 1e-6, 1e-1, True),
              ("float", "learning_rate_init", 1e-4, 1e-1, True), ("int", "batch_size", 16, 128)]
MLP_ADAM = MLP_COMMON + [("float", "beta_1", 0.5, 0.999, False)]
MLP_SGD = MLP_COMMON + [("float", "momentum", 0.5, 0.999, False), ("choice", "nesterov", BOOL)]


def _logreg(c):
    from sklearn.linear_model import LogisticRegression

    # The choice is spelt "none" (a search space holds no None, in KerasTuner either), passed on as None.
    weight = None if c["class_weight"] == "none" else c["class_weight"]
    return LogisticRegression(C=c["C"], fit_intercept=c["fit_intercept"], class_weight=weight,
                              tol=c["tol"], max_iter=300)


def _sgd_clf(c):
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(alpha=c["alpha"], loss=c["loss"], penalty=c["penalty"], l1_ratio=c["l1_ratio"],
                         max_iter=50, tol=None, random_state=0)


def _enet(c):
    from sklearn.linear_model import ElasticNet

    return ElasticNet(alpha=c["alpha"], l1_ratio=c["l1_ratio"], fit_intercept=c["fit_intercept"],
                      selection=c["selection"], max_iter=5000, random_state=0)


def _ridge(c):
    from sklearn.linear_model import Ridge

    return Ridge(alpha=c["alpha"], solver=c["solver"], fit_intercept=c["fit_intercept"])


WIDE_PROBLEMS = [
    # name, half, space, objective, note
    ("w_tree_digits", "dev", TREE_CLF_SPACE, _clf(_tree_clf, "digits"), "DecisionTreeClassifier on digits"),
    ("w_tree_wine", "heldout", TREE_CLF_SPACE, _clf(_tree_clf, "wine"), "DecisionTreeClassifier on wine"),
    ("w_tree_reg_diabetes", "heldout", TREE_REG_SPACE, _reg(_tree_reg, "diabetes"),
     "DecisionTreeRegressor on diabetes (fraction minimums, min_impurity_decrease)"),
    ("w_rf_breast_cancer", "dev", FOREST_SPACE, _clf(_forest("RandomForestClassifier"), "breast_cancer"),
     "RandomForestClassifier on breast_cancer"),
    ("w_et_reg_diabetes", "heldout", FOREST_SPACE, _reg(_forest("ExtraTreesRegressor"), "diabetes"),
     "ExtraTreesRegressor on diabetes"),
    ("w_rf_reg_diabetes", "dev", FOREST_SPACE, _reg(_forest("RandomForestRegressor"), "diabetes"),
     "RandomForestRegressor on diabetes"),
    ("w_gb_wine", "dev", [("int", "n_estimators", 10, 40), ("float", "learning_rate", 1e-3, 1.0, True),
                          ("int", "max_depth", 1, 5), ("float", "subsample", 0.3, 1.0, False)],
     _clf(_gb_clf, "wine"), "GradientBoostingClassifier on wine"),
    ("w_hgb_breast_cancer", "heldout", HGB_SPACE, _clf(_hgb("HistGradientBoostingClassifier"), "breast_cancer"),
     "HistGradientBoostingClassifier on breast_cancer"),
    ("w_hgb_reg_diabetes", "dev", HGB_SPACE, _reg(_hgb("HistGradientBoostingRegressor"), "diabetes"),
     "HistGradientBoostingRegressor on diabetes"),
    ("w_ada_breast_cancer", "heldout", [("int", "n_estimators", 10, 60), ("float", "learning_rate", 1e-3, 10.0, True)],
     _clf(_ada, "breast_cancer"), "AdaBoostClassifier on breast_cancer"),
    ("w_svc_breast_cancer", "dev", [("float", "C", 1e-3, 1e4, True), ("float", "gamma", 1e-5, 10.0, True),
                                    ("choice", "shrinking", BOOL)],
     _clf(_svc, "breast_cancer"), "SVC(rbf) on breast_cancer, shrinking is dead"),
    ("w_svc_kernels_wine", "heldout", [("choice", "kernel", ["rbf", "poly", "sigmoid", "linear"]),
                                       ("float", "C", 1e-3, 1e4, True), ("float", "gamma", 1e-5, 10.0, True),
                                       ("int", "degree", 2, 5, ("kernel", ["poly"])),
                                       ("float", "coef0", -1.0, 1.0, False, ("kernel", ["poly", "sigmoid"]))],
     _clf(_svc, "wine"), "SVC with a kernel choice and conditional degree/coef0 on wine"),
    ("w_svr_diabetes", "dev", [("float", "C", 1e-2, 1e4, True), ("float", "epsilon", 1e-3, 10.0, True),
                               ("float", "gamma", 1e-5, 1.0, True)],
     _reg(_svr, "diabetes"), "SVR on diabetes"),
    ("w_kernel_ridge_diabetes", "heldout", [("float", "alpha", 1e-4, 10.0, True),
                                            ("choice", "kernel", ["rbf", "laplacian", "polynomial"]),
                                            ("float", "gamma", 1e-4, 1.0, True)],
     _reg(_kernel_ridge, "diabetes"), "KernelRidge on diabetes"),
    ("w_knn_digits", "dev", KNN_SPACE, _clf(_knn("KNeighborsClassifier"), "digits"),
     "KNeighborsClassifier on digits, leaf_size is dead"),
    ("w_knn_iris", "heldout", KNN_SPACE, _clf(_knn("KNeighborsClassifier"), "iris"),
     "KNeighborsClassifier on iris, leaf_size is dead"),
    ("w_knn_reg_diabetes", "heldout", KNN_SPACE, _reg(_knn("KNeighborsRegressor"), "diabetes"),
     "KNeighborsRegressor on diabetes, leaf_size is dead"),
    ("w_mlp_adam_digits", "dev", MLP_ADAM, _clf(_mlp("MLPClassifier", "adam"), "digits"),
     "MLPClassifier (Adam, 30 epochs) on digits"),
    ("w_mlp_sgd_digits", "heldout", MLP_SGD, _clf(_mlp("MLPClassifier", "sgd"), "digits"),
     "MLPClassifier (SGD with momentum, 30 epochs) on digits"),
    ("w_mlp_adam_breast_cancer", "heldout", MLP_ADAM, _clf(_mlp("MLPClassifier", "adam"), "breast_cancer"),
     "MLPClassifier (Adam, 30 epochs) on breast_cancer"),
    ("w_mlp_sgd_reg_diabetes", "dev", MLP_SGD, _reg(_mlp("MLPRegressor", "sgd"), "diabetes"),
     "MLPRegressor (SGD with momentum, 30 epochs) on diabetes"),
    ("w_logreg_digits", "dev", [("float", "C", 1e-4, 1e4, True), ("choice", "fit_intercept", BOOL),
                                ("choice", "class_weight", ["none", "balanced"]), ("float", "tol", 1e-6, 1e-2, True)],
     _clf(_logreg, "digits"), "LogisticRegression on digits, tol nearly dead"),
    ("w_sgd_breast_cancer", "heldout", [("float", "alpha", 1e-7, 1.0, True),
                                        ("choice", "loss", ["hinge", "log_loss", "modified_huber"]),
                                        ("choice", "penalty", ["l2", "l1", "elasticnet"]),
                                        ("float", "l1_ratio", 0.0, 1.0, False)],
     _clf(_sgd_clf, "breast_cancer"), "SGDClassifier on breast_cancer"),
    ("w_enet_diabetes", "dev", [("float", "alpha", 1e-4, 10.0, True), ("float", "l1_ratio", 0.0, 1.0, False),
                                ("choice", "fit_intercept", BOOL), ("choice", "selection", ["cyclic", "random"])],
     _reg(_enet, "diabetes"), "ElasticNet on diabetes"),
    ("w_ridge_diabetes", "heldout", [("float", "alpha", 1e-5, 1e3, True),
                                     ("choice", "solver", ["auto", "svd", "cholesky", "lsqr"]),
                                     ("choice", "fit_intercept", BOOL)],
     _reg(_ridge, "diabetes"), "Ridge on diabetes, solver nearly dead"),
]

HALVES = {name: half for name, half, *_ in WIDE_PROBLEMS}
WIDE: dict[str, Problem] = {name: Problem(name, space, fn, None, note) for name, _, space, fn, note in WIDE_PROBLEMS}
