# Data stage: obtain and verify CoNLL-2000, then parse each split into a token table.
# fetch_conll is a localrule: on a cluster it runs where the workflow was started, which
# usually has internet access when compute nodes do not.


rule fetch_conll:
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
        # urls, download.*) is read by the script from the config, so that moving the
        # data or changing a timeout does not rerun the workflow.
        sha256=lambda w: config["data"]["sha256"][w.split],
    script:
        "../../scripts/fetch_conll.py"


rule token_table:
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
        max_sentences=lambda w: config["data"]["max_sentences"][w.split],
        columns=corpus_columns(config),
        comment=CORPUS["comment"] if CORPUS else None,
        check_published_counts=not CORPUS,
    script:
        "../../scripts/token_table.py"


# A user's own column-format corpus (data.corpus) replaces CoNLL-2000: this rule then
# fetches the raw splits (it matches no split otherwise).
ruleorder: fetch_corpus > fetch_conll


rule fetch_corpus:
    input:
        lambda w: [] if is_url(CORPUS[w.split]) else [CORPUS[w.split]],
    output:
        PATHS.raw_split("{split}"),
    log:
        PATHS.log("fetch_corpus", "{split}"),
    wildcard_constraints:
        split=alternation(SPLITS if CORPUS else []),
    conda:
        "../../envs/data.yaml"
    params:
        location=lambda w: CORPUS[w.split],
        sha256=lambda w: CORPUS["sha256"][w.split],
        retries=config["data"]["download"]["retries"],
        timeout=config["data"]["download"]["timeout"],
        backoff=config["data"]["download"]["backoff"],
    script:
        "../../scripts/fetch_corpus.py"
