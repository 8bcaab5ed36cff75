# Data stage: obtain and verify CoNLL-2000, then parse each split into a token table.
# fetch_conll is a localrule: on a cluster it runs where the workflow was started, which
# usually has internet access when compute nodes do not.


rule fetch_conll:
    """Download (or copy from data.local_dir) CoNLL-2000's train or test split and check its sha256."""
    output:
        PATHS.raw_split("{split}"),
    log:
        PATHS.log("fetch_conll", "{split}"),
    cache: "omit-software"
    localrule: True
    conda:
        "../../envs/data.yaml"
    params:
        # Only the content's identity: where the bytes come from (data.source, local_dir,
        # urls, download.*: settings.DataSourceSettings) is read by the script from the
        # config, so that moving the data or changing a timeout does not rerun the workflow.
        settings=lambda w: settings.FetchSettings.params(config, split=w.split),
    script:
        "../../scripts/fetch_conll.py"


rule token_table:
    """Parse one split into the token table (word, POS, chunk and derived properties), checked line by line."""
    input:
        PATHS.raw_split("{split}"),
    output:
        PATHS.token_table("{split}"),
    log:
        PATHS.log("token_table", "{split}"),
    cache: "omit-software"
    conda:
        "../../envs/data.yaml"
    params:
        settings=lambda w: settings.TokenTableSettings.params(config, split=w.split),
    script:
        "../../scripts/token_table.py"


# A user's own column-format corpus (data.corpus) replaces CoNLL-2000: this rule then
# fetches the raw splits (it matches no split otherwise).
ruleorder: fetch_corpus > fetch_conll


rule fetch_corpus:
    """Fetch one split of a user's own column-format corpus (data.corpus) from a path or URL."""
    input:
        lambda w: [] if is_url(CORPUS[w.split]) else [CORPUS[w.split]],
    output:
        PATHS.raw_split("{split}"),
    log:
        PATHS.log("fetch_corpus", "{split}"),
    wildcard_constraints:
        split=alternation(SPLITS if CORPUS else []),
    # A download (or a copy): on the head node, where the network is, as fetch_conll.
    localrule: True
    conda:
        "../../envs/data.yaml"
    params:
        settings=lambda w: settings.CorpusFetchSettings.params(config, split=w.split),
    script:
        "../../scripts/fetch_corpus.py"
