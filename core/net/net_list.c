/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Doubly linked lists of connections: the queue of connections waiting for
 * a worker, the queue waiting for a reject thread and the active list. The
 * caller holds the server's lock.
 */
#include "net/net_internal.h"

#include "metrics/metrics.h"

void net_list_append(net_conn_list *list, net_conn *conn)
{
    conn->next = NULL;
    conn->prev = list->tail;
    if (list->tail != NULL)
        list->tail->next = conn;
    else
        list->head = conn;
    list->tail = conn;
    list->count++;
    if (list->counts_waiting)
        metrics_gauge_add(METRIC_ASSOC_WAITING, 1);
}

void net_list_remove(net_conn_list *list, net_conn *conn)
{
    if (conn->prev != NULL)
        conn->prev->next = conn->next;
    else
        list->head = conn->next;
    if (conn->next != NULL)
        conn->next->prev = conn->prev;
    else
        list->tail = conn->prev;

    conn->prev = NULL;
    conn->next = NULL;
    list->count--;
    if (list->counts_waiting)
        metrics_gauge_add(METRIC_ASSOC_WAITING, -1);
}

net_conn *net_list_pop(net_conn_list *list)
{
    net_conn *conn = list->head;

    if (conn != NULL)
        net_list_remove(list, conn);
    return conn;
}
