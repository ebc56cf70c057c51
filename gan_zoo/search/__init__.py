"""``gan-zoo search``: objectives compared at equal tuning effort (Lucic et al. 2018,
arXiv:1711.10337): a declared hyperparameter space per objective (:mod:`.space`), one
Optuna study per objective whose trials are ordinary run folders (:mod:`.study`), the
expected best score after k trials (:mod:`.bestk`) and the search folder's report
(:mod:`.report`)."""
