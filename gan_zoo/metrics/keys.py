"""Names of evaluation results, shared by the writer (metrics), the runner, the tables,
the plots and the tests. Defined once here."""

FID = "fid"
IS_MEAN = "is_mean"
IS_STD = "is_std"
KID_MEAN = "kid_mean"
KID_STD = "kid_std"
PRECISION = "precision"
RECALL = "recall"
MIFID = "mifid"
MIFID_DISTANCE = "mifid_distance"  # min cosine distance, generated vs training features
MODES = "modes"  # modes covered (classes for MNIST, of 1000 for stacked, of 8/25 for mixtures)
MODES_TOTAL = "modes_total"
MODE_KL = "mode_kl"  # KL(mode histogram || uniform)
HQ_FRAC = "hq_frac"  # 2-D mixtures: share of samples within 3 sigma of a mode
CONFIDENT_FRAC = "confident_frac"  # MNIST family: share with max class probability > 0.9
COND_ACC = "cond_acc"  # conditional runs: classifier agrees with the asked label
EVAL_SAMPLES = "eval_samples"
FEATURE_EXTRACTOR = "feature_extractor"
EVAL_WALL_S = "eval_wall_s"

#: Numeric metric columns in the order the tables show them.
METRIC_COLUMNS = [
    FID, IS_MEAN, IS_STD, KID_MEAN, KID_STD, PRECISION, RECALL, MIFID,
    MODES, MODE_KL, HQ_FRAC, CONFIDENT_FRAC, COND_ACC,
]
