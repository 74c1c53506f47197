{#- One row per clinic x month of scored appointments with an outcome: how many, how many were
    no-shows, the ROC AUC of the scores against the outcomes (null when the month has no
    no-show or no attended visit), how many were flagged high risk and how many of those were
    followed by a no-show. ROC AUC is the Mann-Whitney statistic from average ranks (ties share
    their rank): (rank sum of no-shows - n1 (n1 + 1) / 2) / (n1 n0). -#}
with ranked as (
    select
        clinic_id,
        month_start,
        is_no_show,
        risk_band,
        rank() over (partition by clinic_id, month_start order by probability)
            + (count(*) over (partition by clinic_id, month_start, probability) - 1) / 2.0
            as average_rank
    from {{ ref('ml_no_show_outcomes') }}
),

counted as (
    select
        clinic_id,
        month_start,
        count(*) as appointments,
        sum(case when is_no_show then 1 else 0 end) as no_shows,
        sum(case when is_no_show then average_rank else 0 end) as no_show_rank_sum,
        sum(case when risk_band = 'high' then 1 else 0 end) as high_risk_flags,
        sum(case when risk_band = 'high' and is_no_show then 1 else 0 end) as high_risk_no_shows
    from ranked
    group by 1, 2
)

select
    clinic_id,
    month_start,
    appointments,
    no_shows,
    case
        when no_shows > 0 and no_shows < appointments
            then (no_show_rank_sum - no_shows * (no_shows + 1) / 2.0)
                / (cast(no_shows as double) * (appointments - no_shows))
    end as roc_auc,
    high_risk_flags,
    high_risk_no_shows
from counted
