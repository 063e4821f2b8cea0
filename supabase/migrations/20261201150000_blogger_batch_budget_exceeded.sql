-- A blogger batch re-checks its workspace's tracked-videos cap when it runs (the request only reserved room):
-- a batch that would go over it fails for good with reason 'budget_exceeded', writing nothing.
alter table analytics.blogger_batches drop constraint blogger_batches_failure_reason_check;
alter table analytics.blogger_batches add constraint blogger_batches_failure_reason_check
    check (failure_reason in ('creator_not_found', 'provider_configuration', 'campaign_not_found', 'provider_error',
                              'budget_exceeded'));
