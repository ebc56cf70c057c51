"""Names of evaluation results, shared by the writer (metrics), the runner, the tables,
the plots and the tests. Defined once here."""

FID = "fid"
IS_MEAN = "is_mean"
IS_STD = "is_std"
KID_MEAN = "kid_mean"
KID_STD = "kid_std"
PRECISION = "precision"  # k-NN precision (Kynkaanniemi et al. 2019, k = 3): rises on blobs
RECALL = "recall"
DENSITY = "density"  # Naeem et al. 2020, k = 5: mean count of real k-NN balls holding a sample / k
COVERAGE = "coverage"  # Naeem et al. 2020, k = 5: share of real k-NN balls holding a sample
MIFID = "mifid"
MIFID_DISTANCE = "mifid_distance"  # min cosine distance, generated vs training features
MODES = "modes"  # modes covered by the dataset's rule (MNIST: confident; stacked: argmax; mixtures: above the noise floor)
MODES_CONFIDENT = "modes_confident"  # classes covered by confidently recognised samples only
MODES_PUBLISHED = "modes_published"  # 2-D mixtures: modes with >= 1 high-quality sample (PacGAN / VEEGAN)
MODES_TOTAL = "modes_total"
MODE_KL = "mode_kl"  # KL(mode histogram || uniform)
HQ_FRAC = "hq_frac"  # 2-D mixtures: share of samples within 3 sigma of a mode
CONFIDENT_FRAC = "confident_frac"  # MNIST family: share with max class probability > 0.9
COND_ACC = "cond_acc"  # conditional runs: classifier agrees with the asked label
EVAL_SAMPLES = "eval_samples"
EVAL_PROTOCOL = "eval_protocol"  # "protocol", or how and why the count differs from it
REFERENCE_SPLIT = "reference_split"  # split the real reference images come from ("given": passed in)
REFERENCE_SIZE = "reference_size"  # real reference images
REFERENCE_SEED = "reference_seed"  # seed of their uniform draw from the split
FEATURE_EXTRACTOR = "feature_extractor"
EVAL_WALL_S = "eval_wall_s"

#: Numeric metric columns in the order the tables show them.
METRIC_COLUMNS = [
    FID, IS_MEAN, IS_STD, KID_MEAN, KID_STD, PRECISION, RECALL, DENSITY, COVERAGE, MIFID,
    MIFID_DISTANCE, MODES, MODES_PUBLISHED, MODES_CONFIDENT, MODE_KL, HQ_FRAC, CONFIDENT_FRAC, COND_ACC,
]
#: How a run was scored: the sample count against the protocol, and the reference set.
EVAL_RECORD = [EVAL_PROTOCOL, REFERENCE_SPLIT, REFERENCE_SIZE, REFERENCE_SEED]
